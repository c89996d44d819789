import { randomBytes } from 'node:crypto';
import type { Challenge, ChallengeKind, DcvCheckOptions, DcvMethod, NameVerdict } from '../contracts.js';
import { describeError } from '../errors.js';
import type { Target } from '../model.js';
import { relayOf } from '../signal-relay.js';
import type { RunContext } from './run-context.js';

/** Local DCV verdicts already said in this run of a target, by method, address preference and name. */
export type DcvVerdicts = Map<string, boolean>;

/** How one local DCV is run: for which issuer, what a failure leads to, and whether it may publish. */
export interface LocalDcvRequest {
  family: 'http' | 'dns';
  issuerId?: string;
  checkOptions?: DcvCheckOptions;
  /** What a failed name leads to, for its warning. */
  onFailure?: string;
  /** Verdicts of this run of the target, reused rather than checked and said again. */
  verdicts?: DcvVerdicts;
  /** A dry run: only the method's read-only pre-check, nothing published. */
  readOnly?: boolean;
}

/**
 * cPanel's local DCV: publish a random probe, check it for each name as the CA would, clean up. The names of a
 * target share the probe (token and content): a DCV method that serves them from one place (one docroot) writes
 * one file instead of one per name, and what is proved per name (its own answer, through its own address) is the same.
 * Returns the names that passed, or null when no DCV method of that family is loaded.
 */
export async function localDcv(run: RunContext, target: Target, names: string[], request: LocalDcvRequest, signal: AbortSignal): Promise<string[] | null> {
  const method = methodFor(run, target, names, request);
  if (!method) return null;
  if (request.readOnly && !method.precheck) {
    // A third-party method without a read-only check: a dry run cannot know, and says so once.
    run.fail({
      stage: 'dcv',
      target: target.id,
      issuer: request.issuerId,
      code: 'DCV_PRECHECK_UNAVAILABLE',
      message: `the DCV method "${method.id}" offers no read-only pre-check: the dry run does not check ${names.join(', ')}`,
      next: 'assume the names pass',
      severity: 'warning',
    });
    return names;
  }
  const verdicts = request.verdicts ?? new Map<string, boolean>();
  const passed: string[] = [];
  // Every name listens for the abort at once (resolver, HTTP client): through one relay.
  const scope = relayOf(signal);
  const probe = { token: randomBytes(16).toString('hex'), content: randomBytes(24).toString('base64url') };
  const how = {
    over: request.family,
    checkOptions: request.checkOptions,
    onFailure: request.onFailure ?? 'drop this name from the order',
    readOnly: request.readOnly ?? false,
  };
  await Promise.all(
    names.map(async (name) => {
      const standing = request.checkOptions?.standing;
      const key = `${method.id}|${request.checkOptions?.addressPreference ?? ''}|${request.checkOptions?.redirects ?? ''}|${standing ? `${standing.issuerDomainNames.join(',')}|${standing.accountUri}` : ''}|${name}`;
      let ok = verdicts.get(key);
      if (ok === undefined) {
        ok = await checkName(run, target, method, { kind: 'probe', name, ...probe }, scope.signal, how);
        // A verdict cut short by an interrupt is not one: it is neither kept nor reported.
        if (signal.aborted) return;
        verdicts.set(key, ok);
      }
      if (ok) passed.push(name);
    }),
  );
  scope.release();
  return names.filter((n) => passed.includes(n));
}

/** The loaded DCV method that answers the family's probe; said as an error when there is none. */
function methodFor(run: RunContext, target: Target, names: string[], request: LocalDcvRequest): DcvMethod | undefined {
  const { family, issuerId } = request;
  // The family's probe goes through the method that answers both the probe and the family's own kind.
  const kind: ChallengeKind = family === 'http' ? 'http-file' : 'dns-txt';
  const method = run.deps.dcv.find((m) => m.answers.includes('probe') && m.answers.includes(kind));
  if (method) return method;
  run.fail({
    stage: 'dcv',
    target: target.id,
    issuer: issuerId,
    code: 'NO_DCV_METHOD',
    message: `${issuerId ? `issuer "${issuerId}" needs` : 'local DCV needs'} ${family.toUpperCase()} validation but no such DCV plugin is loaded`,
    next: issuerId ? 'skip this issuer' : 'stop',
    severity: 'error',
  });
  return undefined;
}

interface NameCheck {
  over: 'http' | 'dns';
  checkOptions?: DcvCheckOptions;
  onFailure: string;
  readOnly: boolean;
}

/** One name's local DCV: published and checked, or (read-only) only checked; says the verdict on the bus. */
async function checkName(
  run: RunContext,
  target: Target,
  method: DcvMethod,
  challenge: Challenge & { kind: 'probe' },
  signal: AbortSignal,
  how: NameCheck,
): Promise<boolean> {
  const name = challenge.name;
  let published;
  try {
    let verdict: NameVerdict;
    // A CA that validates against a standing record: read first; the probe is published only when the record still
    // has to be (it proves that the zone takes it), never when it stands or when another account holds the name.
    const standing = how.checkOptions?.standing && method.precheck ? await method.precheck(name, target, signal, how.checkOptions) : undefined;
    if (how.readOnly) verdict = standing ?? (await method.precheck!(name, target, signal, how.checkOptions));
    else if (standing && (!standing.ok || !standing.warnings?.length)) verdict = standing;
    else {
      published = await method.publish(challenge, target, signal);
      run.deps.bus.emit('dcv-created', { target: target.id, name, method: method.id, where: published.where, purpose: 'precheck' });
      verdict = await method.check(published, signal, how.checkOptions);
      if (standing?.warnings) verdict = { ...verdict, warnings: [...standing.warnings, ...(verdict.warnings ?? [])] };
    }
    if (signal.aborted) return false;
    sayVerdict(run, target, method, { ...verdict, name }, how);
    return verdict.ok;
  } catch (error) {
    if (signal.aborted) return false;
    const { code, message } = describeError(error);
    run.deps.bus.emit('validated', { target: target.id, name, ok: false, method: method.id, over: how.over, reason: message });
    run.fail({ stage: 'dcv', target: target.id, name, code, message, next: how.onFailure, severity: 'warning' });
    return false;
  } finally {
    if (published) await method.cleanup(published).catch(() => undefined);
  }
}

function sayVerdict(run: RunContext, target: Target, method: DcvMethod, verdict: NameVerdict, how: NameCheck): void {
  const { name, ok, via, reason, code, warnings } = verdict;
  run.deps.bus.emit('validated', {
    target: target.id,
    name,
    ok,
    method: method.id,
    over: how.over,
    via,
    reason,
    ...(code ? { code } : {}),
    ...(warnings?.length ? { warnings } : {}),
  });
  const at = { stage: 'validate' as const, target: target.id, name, severity: 'warning' as const };
  if (!ok) run.fail({ ...at, code: code ?? 'DCV_FAILED', message: reason ?? 'failed', next: how.onFailure });
  // A finding on a name that passed (the CA falls back to another address): said, and the name stays.
  for (const warning of ok ? (warnings ?? []) : []) run.fail({ ...at, code: warning.code, message: warning.message, next: 'keep the name in the order' });
}
