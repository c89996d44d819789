import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  answers,
  CertsmithError,
  type AddressPreference,
  type BindsCaa,
  type CaaBinding,
  type Challenge,
  type IssueContext,
  type IssueRequest,
  type Issued,
  type Issuer,
  type KeyAndCsr,
  type Pending,
  type PendingOrder,
  type StandingRecord,
  type ValidatesStanding,
} from '@certsmith/core';
import { writeFileAtomic } from '@certsmith/core/atomic-file';
import { moveAccountFileAside, readAccountFile, writeAccountFile, type AccountFile } from './account-file.js';
import { withAccountLock } from './account-lock.js';
import { AcmeClient, type Eab, type Order, type RenewalInfo } from './client.js';
import { AccountKey, type JwsAlgorithm } from './jws.js';
import { driveOrder, type ChallengeType, type OrderOutcome } from './order-flow.js';
import { ValidationPace } from './poll-schedule.js';
import { AcmeError } from './problem.js';
import { AcmeTransport } from './transport.js';
import { ariCertIdOf } from './ari.js';
import { rateLimitFrom, refusesReplaces } from './rate-limit.js';
import { inNameOrder, readAuthorizationStates } from './authorization-states.js';
import { profileRefusal } from './profiles.js';
import { storedChallenge } from './stored-challenge.js';

export interface AcmeIssuerOptions {
  /** Issuer id in the config's `issuers` list. */
  id: string;
  directoryUrl: string;
  /** PEM trust anchors for a private CA (Pebble); the system store otherwise. */
  caPem?: string;
  /** Read from a 0600 file by the plugin (readEabKey). */
  eab?: Eab;
  contact?: string[];
  preferredChain?: string;
  issuerPatterns: RegExp[];
  /** The CA's CAA issuer domain names (RFC 8659); empty: CAA is not checked before ordering. */
  caaIdentities?: string[];
  accountKeyType: JwsAlgorithm;
  challengeTypes: ChallengeType[];
  /** How long one run waits for validation and issuance before leaving the order pending. */
  maxWaitMs: number;
  precheck: 'http' | 'dns' | 'none';
  requestTimeoutMs?: number;
  pollStartMs?: number;
  pollMaxMs?: number;
  /** How long account set-up waits for another run that holds the account lock (default 120 s). */
  accountLockWaitMs?: number;
  /** How the CA picks the address it validates http-01 over (handed to the local pre-check). */
  addressPreference?: AddressPreference;
  /** The ACME profile to order under (one the directory's `meta.profiles` offers); the CA's default when absent. */
  profile?: string;
  /** Orders at the CA at once, however many targets the run works on together (default 4, the run's old pace). */
  ordersInFlight?: number;
}

/** The run's connection to the CA: see AcmeIssuer.withClient. */
interface AcmeSession {
  client: AcmeClient;
  ready: Promise<AccountKey>;
  users: number;
  /** While no order uses it: the timer that ends it. */
  idle: ReturnType<typeof setTimeout> | null;
}

/** How long a session with no order in flight waits for the next one before it ends. */
const SESSION_LINGER_MS = 5_000;

// Account failures that the next target of the same run would meet again: said once, not asked of the CA again.
const FINAL_ACCOUNT_FAILURES = /^(EAB_KEY_SPENT|EAB_KEY_UNKNOWN|EAB_REJECTED|EAB_REQUIRED|ACCOUNT_FILE_INVALID|ACCOUNT_LOCKED|ACME_ACCOUNT_GONE)$/;

/**
 * An Issuer for any ACME CA (Sectigo, Let's Encrypt, ZeroSSL, a private CA). Its state directory keeps the account
 * key (0600) and the challenges a run left published while the CA was still checking them.
 */
/** What a CA saw of a run before the issuer had a gate of its own: the pipeline's four targets at a time. */
export const DEFAULT_ORDERS_IN_FLIGHT = 4;

export class AcmeIssuer implements Issuer, BindsCaa, ValidatesStanding {
  readonly trusted = true;
  readonly id: string;
  readonly precheck: 'http' | 'dns' | 'none';
  readonly issuerPatterns: RegExp[];
  readonly caaIdentities: readonly string[];
  readonly addressPreference?: AddressPreference;
  /** An ACME CA follows redirects from the http-01 URL as RFC 8555 section 8.3 allows: the local probe does too. */
  readonly httpRedirects = 'acme' as const;

  private session: AcmeSession | null = null;
  /** How long this CA has taken to validate this run's orders: where the first look at the next one comes. */
  private pace: ValidationPace | undefined;
  /** At most this many of its orders at the CA at once; the run's pipeline keeps to it. */
  readonly ordersInFlight: number;
  private leftoversWrites: Promise<void> = Promise.resolve();
  /** The run's account could not be had for a reason no retry within the run fixes: every later target gets it too. */
  private accountFailure: CertsmithError | null = null;
  /** The account in use, for the record of a rate limit. */
  private accountUrl: string | undefined;
  /** The configured profile has been seen in the CA's directory (at load time or before the first order). */
  private profileOffered = false;

  constructor(readonly options: AcmeIssuerOptions) {
    this.id = options.id;
    this.precheck = options.precheck;
    this.issuerPatterns = options.issuerPatterns;
    this.caaIdentities = options.caaIdentities ?? [];
    this.addressPreference = options.addressPreference;
    this.ordersInFlight = options.ordersInFlight ?? DEFAULT_ORDERS_IN_FLIGHT;
  }

  async issue(request: IssueRequest, ctx: IssueContext): Promise<Issued | Pending> {
    return this.rateLimited(
      request.names,
      this.withClient(ctx, async (client) => {
        const order = await this.newOrder(request, client, ctx);
        const outcome = await this.drive(order, request.csr, client, client.accountKey!, ctx, request.target);
        return this.finish(outcome, request.target.id, request.names, ctx, undefined, await this.states(outcome, request.names, client, ctx));
      }),
    );
  }

  async resume(pending: PendingOrder, csr: KeyAndCsr, ctx: IssueContext): Promise<Issued | Pending> {
    const target = { id: pending.target, names: pending.names, services: [], kind: 'hostname' as const };
    return this.rateLimited(
      pending.names,
      this.withClient(ctx, async (client) => {
        const order = await client.getOrder(pending.reference, ctx.signal);
        const outcome = await this.drive(order, csr, client, client.accountKey!, ctx, target);
        return this.finish(
          outcome,
          pending.target,
          pending.names,
          ctx,
          pending.createdAt,
          await this.states(outcome, pending.names, client, ctx, pending.authorizations),
        );
      }),
    );
  }

  /**
   * The order; on a renewal, when the directory offers ARI, with RFC 9773's `replaces` naming the certificate in
   * place (the CA may then exempt it from rate limits). An order the CA refuses because of `replaces` (already
   * replaced, unknown to it) is placed once more without it, with a warning.
   */
  private async newOrder(request: IssueRequest, client: AcmeClient, ctx: IssueContext): Promise<Order> {
    const profile = this.options.profile;
    if (profile && !this.profileOffered) {
      // Checked when the plugin loaded unless the CA could not be reached then: no order under a profile it lacks.
      const refusal = profileRefusal(await client.directory(ctx.signal), this.options.directoryUrl, profile);
      if (refusal) throw new CertsmithError('ACME_PROFILE_NOT_OFFERED', `${refusal}: set the issuer's "profile" to one it offers, or remove it`);
      this.profileOffered = true;
    }
    const order = (replaces?: string) =>
      this.again(client, ctx, () => client.newOrder(request.names, ctx.signal, { ...(replaces ? { replaces } : {}), ...(profile ? { profile } : {}) }));
    const replaces = request.replaces && (await client.directory(ctx.signal)).renewalInfo ? certIdOrNull(request.replaces) : null;
    if (!replaces) return order();
    try {
      return await order(replaces);
    } catch (error) {
      if (!refusesReplaces(error)) throw error;
      ctx.bus.emit('failed', {
        stage: 'issue',
        target: request.target.id,
        issuer: this.id,
        code: 'ARI_REPLACES_REFUSED',
        message: `the CA refused the order with replaces "${replaces}": ${(error as Error).message}`,
        next: 'order again without "replaces"',
        severity: 'warning',
      });
      return order();
    }
  }

  /**
   * Why the CA cannot issue under the configured profile (its directory's `meta.profiles` lacks it), or null when it
   * can or no profile is configured. Throws what reading the directory throws (the CA unreachable, say).
   */
  async profileRefusal(signal: AbortSignal): Promise<string | null> {
    const profile = this.options.profile;
    if (!profile || this.profileOffered) return null;
    const client = new AcmeClient(this.options.directoryUrl, this.transport());
    try {
      const refusal = profileRefusal(await client.directory(signal), this.options.directoryUrl, profile);
      this.profileOffered = refusal === null;
      return refusal;
    } finally {
      await client.transport.close();
    }
  }

  /** A rate limit from the CA becomes a RateLimitedError, which the pipeline records so later runs wait. */
  private async rateLimited<T>(names: string[], work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      throw rateLimitFrom(error, names, this.accountUrl ?? this.options.directoryUrl) ?? error;
    }
  }

  /** The pending order as the CA sees it now: its status and each name's authorization, `since` carried over. */
  async checkPending(pending: PendingOrder, ctx: IssueContext): Promise<PendingOrder> {
    return this.withClient(ctx, async (client) => {
      const order = await client.getOrder(pending.reference, ctx.signal);
      const authorizations = await readAuthorizationStates(client, order, pending.authorizations, ctx.clock.now(), this.options.challengeTypes, ctx.signal);
      return { ...pending, orderStatus: order.status, authorizations: inNameOrder(authorizations, pending.names) };
    });
  }

  /**
   * Gives up a pending order: its authorizations still pending are deactivated (RFC 8555 section 7.5.2), so that the
   * CA stops checking them and a new order for the same names gets fresh ones instead of the stuck ones (Let's
   * Encrypt reuses pending authorizations); the challenges a run left published for it are removed. Valid
   * authorizations are left alone: other orders may reuse them. The order itself simply expires at the CA.
   */
  async abandon(pending: PendingOrder, ctx: IssueContext): Promise<string> {
    const deactivated = await this.withClient(ctx, async (client) => {
      const order = await client.getOrder(pending.reference, ctx.signal);
      const authzs = await Promise.all(order.authorizations.map((url) => client.getAuthorization(url, ctx.signal)));
      const open = authzs.filter((a) => a.status === 'pending');
      await Promise.all(open.map((a) => client.deactivateAuthorization(a.url, ctx.signal)));
      return inNameOrder(
        open.map((a) => ({ name: a.identifier.value })),
        pending.names,
      ).map((a) => a.name);
    });
    const target = { id: pending.target, names: pending.names, services: [], kind: 'hostname' as const };
    const leftovers = (await this.leftovers(ctx))[pending.reference] ?? [];
    for (const challenge of leftovers) {
      const method = ctx.dcv.find((m) => answers(m, challenge));
      // Published again to get the method's handle, then removed: what the first publish left goes with it.
      if (method) await method.cleanup(await method.publish(challenge, target, ctx.signal)).catch(() => undefined);
    }
    await this.updateLeftovers(ctx, (current) => {
      delete current[pending.reference];
    });
    return deactivated.length ? `deactivated the authorizations of ${deactivated.join(', ')} at the CA` : 'no authorization left to deactivate at the CA';
  }

  /** For an order left pending: every authorization, read once more so that the report says why, per name. */
  private async states(
    outcome: OrderOutcome,
    names: string[],
    client: AcmeClient,
    ctx: IssueContext,
    previous?: PendingOrder['authorizations'],
  ): Promise<PendingOrder['authorizations']> {
    if (outcome.status !== 'pending') return undefined;
    // The ACME challenge type each published kind answered, as the CA names it.
    const answered = new Map(outcome.published.map((c) => [c.name, c.kind === 'dns-txt' ? 'dns-01' : c.kind === 'dns-persist' ? 'dns-persist-01' : 'http-01']));
    return inNameOrder(
      await readAuthorizationStates(client, outcome.order, previous, ctx.clock.now(), this.options.challengeTypes, ctx.signal, answered),
      names,
    );
  }

  /** ARI for a certificate from this CA, or null when the directory offers none (Pebble 2.4). */
  async renewalInfo(certificatePem: string, signal: AbortSignal): Promise<RenewalInfo | null> {
    const client = new AcmeClient(this.options.directoryUrl, this.transport());
    try {
      return await client.renewalInfo(ariCertIdOf(certificatePem), signal);
    } finally {
      await client.transport.close();
    }
  }

  /** The Issuer contract's ARI hook: the suggested window, or null when the CA offers no ARI (Pebble 2.4). */
  /**
   * This issuer's account at its CA (from the account file, when it is this directory's) and the challenge types it
   * answers with: for a name proved over HTTP or DNS, the first of that family (the one the order flow prefers when
   * the CA offers it), for CAA's accounturi and validationmethods (RFC 8657). Before the first registration there is
   * no account: null.
   */
  async caaBinding(stateDir: string): Promise<CaaBinding> {
    const stored = await readAccountFile(join(stateDir, 'account.json')).catch(() => null);
    const accountUri = stored && stored.account.directoryUrl === this.options.directoryUrl ? stored.account.url : null;
    const types = this.options.challengeTypes;
    const http = types.find((t) => t === 'http-01');
    const dns = types.find((t) => t.startsWith('dns-'));
    return { accountUri, methods: [...types], methodOver: { ...(http ? { http } : {}), ...(dns ? { dns } : {}) } };
  }

  /**
   * With dns-persist-01 preferred: whom the standing record must name, for the pre-check. The CA's issuer domain names
   * are its CAA identities (the same names, docs/domain-facts.md); without them the pre-check cannot judge: null.
   */
  async standingRecord(stateDir: string): Promise<StandingRecord | null> {
    if (this.options.challengeTypes[0] !== 'dns-persist-01' || this.caaIdentities.length === 0) return null;
    const stored = await readAccountFile(join(stateDir, 'account.json')).catch(() => null);
    const accountUri = stored && stored.account.directoryUrl === this.options.directoryUrl ? stored.account.url : null;
    return { issuerDomainNames: [...this.caaIdentities], accountUri };
  }

  async renewalWindow(certificatePem: string, signal: AbortSignal): Promise<{ start: Date; end: Date } | null> {
    try {
      return (await this.renewalInfo(certificatePem, signal))?.suggestedWindow ?? null;
    } catch (error) {
      if (error instanceof AcmeError && error.code === 'ARI_NO_AKI') return null;
      throw error;
    }
  }

  private transport(): AcmeTransport {
    return new AcmeTransport({ caPem: this.options.caPem, timeoutMs: this.options.requestTimeoutMs });
  }

  private async drive(
    order: Order,
    csr: KeyAndCsr,
    client: AcmeClient,
    key: AccountKey,
    ctx: IssueContext,
    target: IssueRequest['target'],
  ): Promise<OrderOutcome> {
    const leftovers = await this.leftovers(ctx);
    const outcome = await driveOrder(
      order,
      csr.csrDer,
      {
        client,
        accountKey: key,
        dcv: ctx.dcv,
        target,
        bus: ctx.bus,
        signal: ctx.signal,
        leftovers: leftovers[order.url] ?? [],
        pace: (this.pace ??= new ValidationPace(this.options.pollStartMs, this.options.pollMaxMs)),
      },
      {
        challengeTypes: this.options.challengeTypes,
        maxWaitMs: this.options.maxWaitMs,
        preferredChain: this.options.preferredChain,
        issuerDomainNames: this.caaIdentities,
        pollStartMs: this.options.pollStartMs,
        pollMaxMs: this.options.pollMaxMs,
      },
    );
    await this.updateLeftovers(ctx, (current) => {
      if (outcome.status === 'pending' && outcome.published.length) current[order.url] = outcome.published;
      else delete current[order.url];
    });
    return outcome;
  }

  private finish(
    outcome: OrderOutcome,
    target: string,
    names: string[],
    ctx: IssueContext,
    createdAt?: string,
    authorizations?: PendingOrder['authorizations'],
  ): Issued | Pending {
    if (outcome.status === 'issued') {
      // The CA's word on the profile (it echoes it in the order); else the one asked for, which it offers.
      const profile = outcome.order.profile ?? this.options.profile;
      return { status: 'issued', certificatePem: outcome.certificatePem, chainPem: outcome.chainPem, ...(profile ? { profile } : {}) };
    }
    return {
      status: 'pending',
      order: {
        issuer: this.id,
        target,
        reference: outcome.order.url,
        names,
        createdAt: createdAt ?? ctx.clock.now().toISOString(),
        detail: outcome.detail,
        orderStatus: outcome.order.status,
        authorizations,
      },
    };
  }

  /**
   * One client (one TLS pool, one directory fetch, one nonce pool) and one account per run, shared by the targets
   * ordering: the account is looked up or created once, so a single-use EAB key is never spent twice, and the CA
   * sees one connection pool instead of one per order. When its last user is done the session lingers a few
   * seconds for the next target (which is often still in its local DCV); then it ends. Its idle connections never
   * keep the process alive. A session whose account could not be had is not reused.
   */
  private async withClient<T>(ctx: IssueContext, work: (client: AcmeClient, key: AccountKey) => Promise<T>): Promise<T> {
    if (this.accountFailure) throw this.accountFailure;
    await mkdir(ctx.stateDir, { recursive: true, mode: 0o700 });
    if (!this.session) {
      const client = new AcmeClient(this.options.directoryUrl, this.transport());
      const session: AcmeSession = { client, ready: this.account(client, ctx), users: 0, idle: null };
      // An account that could not be had (the CA down, a lock held) is asked for again by the next target.
      session.ready.catch(() => {
        if (this.session === session) this.session = null;
      });
      this.session = session;
    }
    const session = this.session;
    if (session.idle) clearTimeout(session.idle);
    session.idle = null;
    session.users++;
    try {
      const key = await session.ready;
      this.accountUrl = session.client.accountUrl;
      return await work(session.client, key);
    } catch (error) {
      if (error instanceof CertsmithError && FINAL_ACCOUNT_FAILURES.test(error.code)) this.accountFailure ??= error;
      throw error;
    } finally {
      if (--session.users === 0) {
        const end = () => {
          if (this.session === session) this.session = null;
          return session.client.transport.close();
        };
        if (this.session !== session) await end();
        else session.idle = setTimeout(() => void end().catch(() => undefined), SESSION_LINGER_MS).unref();
      }
    }
  }

  /** Read-modify-write of challenges.json, one at a time (orders of several targets finish concurrently). */
  private updateLeftovers(ctx: IssueContext, change: (leftovers: Record<string, Challenge[]>) => void): Promise<void> {
    const next = this.leftoversWrites.then(async () => {
      const leftovers = await this.leftovers(ctx);
      const before = JSON.stringify(leftovers, null, 2);
      change(leftovers);
      const after = JSON.stringify(leftovers, null, 2);
      // Most orders leave nothing published: no rewrite (and no two fsyncs) when the record stays the same.
      if (after !== before) await writeFileAtomic(join(ctx.stateDir, 'challenges.json'), after, { mode: 0o600 });
    });
    this.leftoversWrites = next.catch(() => undefined);
    return next;
  }

  /**
   * The account for this directory: the stored one, else a lookup by key, else a new one (with EAB, recorded by
   * key id and time, never the HMAC key). Runs under the account lock, so two runs starting together make one.
   */
  private async account(client: AcmeClient, ctx: IssueContext): Promise<AccountKey> {
    const file = join(ctx.stateDir, 'account.json');
    return withAccountLock(ctx.stateDir, { waitMs: this.options.accountLockWaitMs ?? 120_000, signal: ctx.signal }, async () => {
      const stored = await readAccountFile(file);
      if (stored && stored.account.directoryUrl !== this.options.directoryUrl) {
        // Another CA (or its staging directory): its account stays on disk beside the new one.
        await moveAccountFileAside(file, 'other-directory', ctx.clock.now());
      } else if (stored) {
        const { account, key } = stored;
        if (account.url) {
          await client.directory(ctx.signal);
          client.useAccount(key, account.url);
          return key;
        }
        if (await client.findAccount(key, ctx.signal)) {
          await writeAccountFile(file, { ...account, url: client.accountUrl! });
          return key;
        }
        await this.register(client, key, file, ctx);
        return key;
      }
      const key = await AccountKey.generate(this.options.accountKeyType);
      // Saved before the account exists so that a crash in between finds it again by key (onlyReturnExisting).
      await writeAccountFile(file, { directoryUrl: this.options.directoryUrl, url: null, algorithm: key.algorithm, keyPem: await key.toPem() });
      await this.register(client, key, file, ctx);
      return key;
    });
  }

  /** newAccount (with the configured EAB, if any), then the file with the URL and what the account was bound with. */
  private async register(client: AcmeClient, key: AccountKey, file: string, ctx: IssueContext): Promise<void> {
    const eab = this.options.eab;
    await client.createAccount(key, { contact: this.options.contact, eab }, ctx.signal);
    await writeAccountFile(file, {
      directoryUrl: this.options.directoryUrl,
      url: client.accountUrl!,
      algorithm: key.algorithm,
      keyPem: await key.toPem(),
      eab: eab ? { kid: eab.kid, boundAt: ctx.clock.now().toISOString() } : null,
    });
  }

  /**
   * Runs an account-bound request. When the CA no longer knows the account: one registered without EAB is
   * registered again with its key (a reset test CA); one bound with an EAB key is not, as that key has been used
   * (a single-use key would be refused, a reusable one would open a second account unasked): ACME_ACCOUNT_GONE
   * says what to do, and a new EAB key id in the config is taken as that answer.
   */
  private async again<T>(client: AcmeClient, ctx: IssueContext, work: () => Promise<T>): Promise<T> {
    const used = client.accountUrl;
    try {
      return await work();
    } catch (error) {
      if (
        !(error instanceof AcmeError) ||
        (error.code !== 'ACME_ACCOUNT_DOES_NOT_EXIST' && !(error.code === 'ACME_UNAUTHORIZED' && /account/i.test(error.message)))
      )
        throw error;
      const file = join(ctx.stateDir, 'account.json');
      await withAccountLock(ctx.stateDir, { waitMs: this.options.accountLockWaitMs ?? 120_000, signal: ctx.signal }, async () => {
        if (client.accountUrl !== used) return; // another target of this run has dealt with it
        const stored = await readAccountFile(file);
        if (stored && stored.account.url && stored.account.url !== used && stored.account.directoryUrl === this.options.directoryUrl) {
          client.useAccount(stored.key, stored.account.url); // another run has registered anew meanwhile
          return;
        }
        const account: Partial<AccountFile> = stored?.account ?? {};
        const eab = this.options.eab;
        // A file from before EAB was recorded, with EAB configured: assume it was bound with it.
        const bound = account.eab ?? (account.eab === undefined && eab ? { kid: '', boundAt: '' } : null);
        if (!bound || !stored) {
          await this.register(client, client.accountKey!, file, ctx);
          return;
        }
        if (eab && bound.kid && eab.kid !== bound.kid) {
          // The administrator has put a new EAB key in place: a new account (and key) with it; the old file stays.
          await moveAccountFileAside(file, 'gone', ctx.clock.now());
          const key = await AccountKey.generate(this.options.accountKeyType);
          await writeAccountFile(file, { directoryUrl: this.options.directoryUrl, url: null, algorithm: key.algorithm, keyPem: await key.toPem() });
          await this.register(client, key, file, ctx);
          return;
        }
        const boundWith = bound.kid ? `EAB key id "${bound.kid}"${bound.boundAt ? ` on ${bound.boundAt}` : ''}` : 'an EAB key';
        throw new CertsmithError(
          'ACME_ACCOUNT_GONE',
          `the CA no longer knows the account ${used} in ${file} (${error.problem?.detail ?? error.message}); it was registered with ${boundWith}, which is not sent again: ask the CA at ${new URL(this.options.directoryUrl).host} for a new EAB key and put its key id in the issuer's eab.kid and its HMAC key in ${eab?.keyFile ?? "the issuer's eab.keyFile"}: the next run registers a new account with it (the old account file is kept beside it)`,
        );
      });
      return work();
    }
  }

  private async leftovers(ctx: IssueContext): Promise<Record<string, Challenge[]>> {
    try {
      const data = JSON.parse(await readFile(join(ctx.stateDir, 'challenges.json'), 'utf8')) as unknown;
      // A file edited into something else holds no challenge this run can tidy.
      if (!data || typeof data !== 'object' || Array.isArray(data)) return {};
      const entries = Object.entries(data as Record<string, unknown>).map(([reference, list]) => [
        reference,
        (Array.isArray(list) ? list : []).map(storedChallenge).filter((c): c is Challenge => c !== null),
      ]);
      return Object.fromEntries(entries) as Record<string, Challenge[]>;
    } catch {
      return {};
    }
  }
}

/** The ARI identifier of a PEM certificate, or null when it has none (no Authority Key Identifier, unreadable). */
function certIdOrNull(certificatePem: string): string | null {
  try {
    return ariCertIdOf(certificatePem);
  } catch {
    return null;
  }
}
