import { answers, CertsmithError, type Bus, type Challenge, type DcvMethod, type Published, type Target } from '@certsmith/core';
import type { AcmeChallenge, AcmeClient, Authorization, Order } from './client.js';
import { dns01Value, type AccountKey } from './jws.js';
import { PollSchedule, REAL_TIMING, type PollTiming, type ValidationPace } from './poll-schedule.js';
import { AcmeError, codeOfProblemType, type ProblemDocument } from './problem.js';

export type ChallengeType = 'http-01' | 'dns-01' | 'dns-persist-01';

export interface OrderFlowOptions {
  /** Challenge types in order of preference; the first one a loaded DCV method supports is used. */
  challengeTypes: ChallengeType[];
  /** How long one run waits for the CA (validation, then issuance) before it leaves the order pending. */
  maxWaitMs: number;
  /** Polling: first delay, then doubling up to the cap, unless the CA says Retry-After (see PollSchedule). */
  pollStartMs?: number;
  pollMaxMs?: number;
  preferredChain?: string;
  /** dns-persist-01: the issuer domain names to name in a standing record when the CA offers one of them (the issuer's CAA identities). */
  issuerDomainNames?: readonly string[];
}

export interface OrderFlowContext {
  client: AcmeClient;
  accountKey: AccountKey;
  dcv: DcvMethod[];
  target: Target;
  bus: Bus;
  signal: AbortSignal;
  /** Challenges a previous run left published (it stopped waiting); they are cleaned up once their authorization is final. */
  leftovers?: Challenge[];
  /** How to wait between looks at the CA (default: real time; tests inject their own). */
  timing?: PollTiming;
  /** The run's record of how long this CA takes to validate: where the first look at an answered order comes. */
  pace?: ValidationPace;
}

export type OrderOutcome =
  | { status: 'issued'; certificatePem: string; chainPem: string[]; order: Order }
  /** `published`: challenges still in place because the CA may still be checking them. */
  | { status: 'pending'; order: Order; detail: string; published: Challenge[] };

interface Answer {
  authz: Authorization;
  challenge: AcmeChallenge;
  method: DcvMethod;
  published: Published;
}

/**
 * Drives an order to a certificate: skips authorizations that are already valid, publishes every challenge of
 * the order at once through the DCV methods, tells the CA about all of them, polls the order (fast first, then
 * backing off, honouring Retry-After), finalizes with the CSR and downloads the chain. When the wait bound is reached first,
 * the order is returned as pending, to be resumed by a later run with the same call.
 */
export async function driveOrder(start: Order, csrDer: Uint8Array, ctx: OrderFlowContext, options: OrderFlowOptions): Promise<OrderOutcome> {
  // Real time, not the run's clock: a pinned test clock must not make the wait endless.
  const timing = ctx.timing ?? REAL_TIMING;
  const poller = new Poller(ctx.signal, timing, timing.now() + options.maxWaitMs, options);
  let order = start;
  let stillPublished: Challenge[] = [];
  /** Answered names the CA has not decided yet (a standing record among them is not a published leftover). */
  let waiting: Answer[] = [];

  if (order.status === 'pending') {
    const answers: Answer[] = [];
    try {
      const authzs = await Promise.all(order.authorizations.map((url) => ctx.client.getAuthorization(url, ctx.signal)));
      for (const authz of authzs) {
        if (authz.status === 'valid') {
          // Pre-validated (Sectigo) or reused (Let's Encrypt, Pebble's AUTHZREUSE): no challenge.
          ctx.bus.emit('validated', {
            target: ctx.target.id,
            name: authz.identifier.value,
            ok: true,
            method: 'acme',
            reason: 'authorization already valid at the CA',
          });
          continue;
        }
        if (authz.status !== 'pending') throw authorizationFailed(authz);
        answers.push(await publish(authz, ctx, options));
      }
      // Every challenge is in place before the CA is told about any of them: it validates them in parallel.
      await Promise.all(
        answers.map(async (a) => {
          if (a.challenge.status === 'pending') a.challenge = await ctx.client.respond(a.challenge, ctx.signal);
        }),
      );
      // One request per poll however many names the order has: the order turns ready once every authorization is
      // valid and invalid once any is not (RFC 8555 section 7.1.6). Only when it is neither (the wait bound came
      // first) or invalid are the answered authorizations read, once each, to say which name holds it or failed.
      // The CA has only just been told: asked at once, it would all but always still be checking (a wasted request),
      // so the first look waits one short step, or as long as the answers' Retry-After says.
      // A wait bound of zero asks nothing: every answered name is left pending as it is.
      const known = order;
      if (answers.length) {
        const answeredAt = timing.now();
        let pendingAt: number | undefined;
        order = await poller.until(
          () => ctx.client.getOrder(order.url, ctx.signal),
          (o) => {
            if (o.status !== 'pending') return true;
            pendingAt = timing.now();
            return false;
          },
          known,
          { waitFirst: true, retryAfter: latest(answers.map((a) => a.challenge.retryAfter)), firstStepMs: ctx.pace?.firstStep() },
        );
        if (order.status !== 'pending' && order !== known)
          ctx.pace?.observe(timing.now() - answeredAt, pendingAt === undefined ? undefined : pendingAt - answeredAt);
      }
      const decided = order.status !== 'pending' && order.status !== 'invalid';
      const final = decided
        ? answers.map((a) => ({ ...a.authz, status: 'valid' as const }))
        : order === known
          ? answers.map((a) => a.authz)
          : await Promise.all(answers.map((a) => ctx.client.getAuthorization(a.authz.url, ctx.signal)));
      for (const [i, authz] of final.entries()) {
        const answer = answers[i]!;
        if (authz.status === 'pending') continue;
        const ok = authz.status === 'valid';
        const error = authz.challenges.find((c) => c.url === answer.challenge.url)?.error;
        ctx.bus.emit('validated', {
          target: ctx.target.id,
          name: authz.identifier.value,
          ok,
          method: answer.method.id,
          over: answer.published.challenge.kind === 'http-file' ? 'http' : 'dns',
          reason: ok ? undefined : (error?.detail ?? authz.status),
        });
        if (!ok) throw authorizationFailed(authz, answer.challenge.url);
      }
      // Invalid with no answered authorization to blame: it failed for another reason (it expired, say).
      if (order.status === 'invalid') throw orderFailed(order);
      waiting = final.flatMap((authz, i) => (authz.status === 'pending' ? [answers[i]!] : []));
      stillPublished = waiting.filter((a) => !standing(a)).map((a) => a.published.challenge);
    } finally {
      // Challenges the CA may still be checking stay in place; the rest go now. A standing record stays for good.
      await Promise.all(
        answers.filter((a) => !standing(a) && !stillPublished.includes(a.published.challenge)).map((a) => a.method.cleanup(a.published).catch(() => undefined)),
      );
    }
    if (waiting.length) {
      return {
        status: 'pending',
        order,
        detail: `waiting for the CA to validate ${waiting.map((a) => a.published.challenge.name).join(', ')}`,
        published: stillPublished,
      };
    }
    // Nothing was answered (every authorization was already valid): the order's state as the CA has it now.
    if (!answers.length) order = await ctx.client.getOrder(order.url, ctx.signal);
  }
  await tidyLeftovers(ctx);

  let finalized = false;
  if (order.status === 'ready') {
    order = await ctx.client.finalize(order, csrDer, ctx.signal);
    finalized = true;
  }
  if (order.status === 'processing' || order.status === 'pending') {
    // Just finalized: a CA that says how long signing takes (Retry-After) is not asked before; one that does not
    // is usually done by the time it is asked.
    order = await poller.until(
      () => ctx.client.getOrder(order.url, ctx.signal),
      (o) => o.status !== 'processing' && o.status !== 'pending',
      order,
      { waitFirst: finalized && order.retryAfter !== undefined, retryAfter: order.retryAfter },
    );
  }
  if (order.status === 'invalid') throw orderFailed(order);
  if (order.status !== 'valid') {
    return { status: 'pending', order, detail: `the order is ${order.status} at the CA (asynchronous issuance)`, published: [] };
  }
  if (!order.certificate) throw new AcmeError('ACME_BAD_RESPONSE', `the order ${order.url} is valid but names no certificate URL`);
  const chain = await ctx.client.certificate(order.certificate, ctx.signal, options.preferredChain);
  return { status: 'issued', certificatePem: chain.pems[0]!, chainPem: chain.pems.slice(1), order };
}

/** A standing record (dns-persist-01) is published once and never removed: the next orders are validated against it. */
function standing(answer: Answer): boolean {
  return answer.published.challenge.kind === 'dns-persist';
}

/** The challenge to answer for one authorization, published through the first DCV method that supports it. */
async function publish(authz: Authorization, ctx: OrderFlowContext, options: OrderFlowOptions): Promise<Answer> {
  const name = authz.identifier.value;
  for (const type of options.challengeTypes) {
    const challenge = authz.challenges.find((c) => c.type === type && c.status !== 'invalid');
    if (!challenge) continue;
    const wanted =
      type === 'dns-persist-01'
        ? standingChallenge(authz, challenge, ctx, options.issuerDomainNames ?? [])
        : challenge.token
          ? challengeFor(type, name, challenge.token, ctx.accountKey)
          : null;
    if (!wanted) continue;
    const method = ctx.dcv.find((m) => answers(m, wanted));
    if (!method) continue;
    const published = await method.publish(wanted, ctx.target, ctx.signal);
    // A standing record that was already there: nothing created; it is proved as it stands.
    if (!published.kept) ctx.bus.emit('dcv-created', { target: ctx.target.id, name, method: method.id, where: published.where, purpose: 'challenge' });
    if (wanted.kind === 'dns-persist') await proveStanding(method, published, ctx);
    return { authz, challenge, method, published };
  }
  const offered = authz.challenges.map((c) => c.type).join(', ');
  throw new AcmeError(
    'ACME_NO_DCV_METHOD',
    `no loaded DCV method can answer the CA's challenges for ${name} (offered: ${offered}; wanted: ${options.challengeTypes.join(', ')}): add the DCV plugin for one of them`,
  );
}

/**
 * dns-persist-01 (docs/domain-facts.md): the standing record for this account and an issuer domain name the CA offers,
 * the first that is also one the issuer knows (the one the pre-check proved), else the CA's first; null when the
 * challenge names none or there is no account URL (the type is then passed over).
 */
function standingChallenge(authz: Authorization, challenge: AcmeChallenge, ctx: OrderFlowContext, known: readonly string[]): Challenge | null {
  const offered = (challenge['issuer-domain-names'] ?? [challenge['issuer-domain-name']]).filter((d): d is string => typeof d === 'string' && d !== '');
  const issuerDomainName = offered.find((d) => known.some((k) => k.toLowerCase() === d.toLowerCase())) ?? offered[0];
  const accountUri = ctx.client.accountUrl;
  if (!issuerDomainName || !accountUri) return null;
  const name = authz.identifier.value;
  const wildcard = authz.wildcard === true || name.startsWith('*.');
  const base = name.replace(/^\*\./, '');
  return { kind: 'dns-persist', name: wildcard ? `*.${base}` : name, owner: `_validation-persist.${base}`, issuerDomainName, accountUri, wildcard };
}

/** The standing record proved on every authoritative server before the CA is told: a CA that would not see it is not asked. */
async function proveStanding(method: DcvMethod, published: Published, ctx: OrderFlowContext): Promise<void> {
  const verdict = await method.check(published, ctx.signal);
  if (!verdict.ok)
    throw new CertsmithError(verdict.code ?? 'DNS_PERSIST_NOT_SEEN', verdict.reason ?? `the standing record for ${published.challenge.name} is not served`);
}

function challengeFor(type: ChallengeType, name: string, token: string, key: AccountKey): Challenge {
  const keyAuthorization = key.keyAuthorization(token);
  return type === 'http-01' ? http01Challenge(name, token, keyAuthorization) : dns01Challenge(name, dns01Value(keyAuthorization));
}

/** RFC 8555 8.3: the key authorization at /.well-known/acme-challenge/<token>, redirects followed as ACME allows. */
export function http01Challenge(name: string, token: string, keyAuthorization: string): Challenge {
  return { kind: 'http-file', name, path: `/.well-known/acme-challenge/${token}`, body: keyAuthorization, redirects: 'acme' };
}

/** RFC 8555 8.4: the digest in a TXT record at _acme-challenge.<name> (a wildcard's base name). */
export function dns01Challenge(name: string, value: string): Challenge {
  return { kind: 'dns-txt', name, owner: `_acme-challenge.${name.replace(/^\*\./, '')}`, value };
}

/** Removes what an earlier run left published, now that its authorization is final (publish again, then clean up). */
async function tidyLeftovers(ctx: OrderFlowContext): Promise<void> {
  for (const challenge of ctx.leftovers ?? []) {
    const method = ctx.dcv.find((m) => answers(m, challenge));
    if (!method) continue;
    try {
      await method.cleanup(await method.publish(challenge, ctx.target, ctx.signal));
    } catch {
      // best effort: a leftover challenge file or record is harmless
    }
  }
  ctx.leftovers = [];
}

function authorizationFailed(authz: Authorization, challengeUrl?: string): AcmeError {
  const challenge = authz.challenges.find((c) => c.url === challengeUrl) ?? authz.challenges.find((c) => c.error);
  const problem: ProblemDocument | undefined = challenge?.error;
  const code = problem ? codeOfProblemType(problem.type) : 'ACME_AUTHORIZATION_FAILED';
  return new AcmeError(
    code,
    `the CA did not validate ${authz.identifier.value} (authorization ${authz.status}${challenge ? `, ${challenge.type}` : ''}): ${problem?.detail ?? 'no detail'}`,
    { problem },
  );
}

function orderFailed(order: Order): AcmeError {
  const code = order.error ? codeOfProblemType(order.error.type) : 'ACME_ORDER_INVALID';
  return new AcmeError(code === 'ACME_PROBLEM' ? 'ACME_ORDER_INVALID' : code, `the order ${order.url} is invalid: ${order.error?.detail ?? 'no detail'}`, {
    problem: order.error,
  });
}

/** Looks at an order until it is decided, on a PollSchedule per wait; never past the run's wait bound. */
class Poller {
  constructor(
    private readonly signal: AbortSignal,
    private readonly timing: PollTiming,
    private readonly deadline: number,
    private readonly options: OrderFlowOptions,
  ) {}

  /**
   * With `current` (the state already known), a wait bound of zero returns it without asking the CA again. With
   * `waitFirst`, the first request waits one step (or the given Retry-After) as later ones do; each later wait
   * follows the Retry-After of the answer before it.
   */
  async until<T extends { retryAfter?: Date }>(
    fetch: () => Promise<T>,
    done: (value: T) => boolean,
    current?: T,
    options: { waitFirst?: boolean; retryAfter?: Date; firstStepMs?: number } = {},
  ): Promise<T> {
    if (current !== undefined && this.timing.now() >= this.deadline) return current;
    const schedule = new PollSchedule(this.deadline, options.firstStepMs ?? this.options.pollStartMs, this.options.pollMaxMs);
    if (options.waitFirst) {
      const wait = schedule.next(this.timing.now(), options.retryAfter);
      if (wait === null) return current ?? fetch();
      await this.timing.sleep(wait, this.signal);
    }
    for (;;) {
      const value = await fetch();
      if (done(value)) return value;
      const wait = schedule.next(this.timing.now(), value.retryAfter);
      if (wait === null) return value;
      await this.timing.sleep(wait, this.signal);
    }
  }
}

/** The latest of the dates given (the CA's Retry-After of several answers), if any. */
function latest(dates: (Date | undefined)[]): Date | undefined {
  return dates.reduce<Date | undefined>((a, b) => (b && (!a || b > a) ? b : a), undefined);
}
