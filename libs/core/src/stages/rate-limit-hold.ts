import type { Issuer } from '../contracts.js';
import { describeError } from '../errors.js';
import type { Target } from '../model.js';
import { isoSeconds, type RateLimitNotice } from '../rate-limits.js';
import type { RunContext } from './run-context.js';

/**
 * Whether a rate limit the CA imposed earlier still holds this issuer back for these names (or for anything, when
 * it was account-wide): then it is not asked, and a line says until when. Returns that time, or null.
 * A ledger file edited into nonsense is reported once, naming the file, and the run goes on without it.
 */
export async function rateLimitHold(
  run: RunContext,
  target: Target,
  issuer: Issuer,
  names: string[],
  how: { next: string; warning: boolean },
): Promise<Date | null> {
  const hold = await run.rateLimits.hold(issuer.id, names).catch(() => null);
  for (const problem of run.rateLimits.takeProblems()) {
    run.fail({
      stage: 'issue',
      target: target.id,
      issuer: issuer.id,
      code: 'RATE_LIMIT_LEDGER_INVALID',
      message: problem,
      next: 'go on as if no rate limit were recorded',
      severity: 'warning',
    });
  }
  if (!hold) return null;
  const what = hold.scope === 'account' ? 'anything (account-wide limit)' : hold.names.join(', ');
  const why = `${hold.entry.kind}${hold.entry.detail ? `: ${hold.entry.detail}` : ''}`;
  run.fail({
    stage: 'issue',
    target: target.id,
    issuer: issuer.id,
    code: 'RATE_LIMITED',
    message: `not asking "${issuer.id}" for ${what} until ${isoSeconds(hold.until)} (${why})`,
    next: how.next,
    severity: how.warning ? 'warning' : 'error',
    until: isoSeconds(hold.until),
  });
  return hold.until;
}

/** A share of a rate limit with the fleet waits no longer than this (the fleet link bounds its own waits too). */
const FLEET_SHARE_TIMEOUT_MS = 2_000;

/** Writes a new rate limit to the ledger; returns when the run asks again, in words for the message. */
export async function recordRateLimit(
  run: RunContext,
  target: Target,
  issuerId: string,
  code: string,
  limit: RateLimitNotice,
  orderNames: string[],
): Promise<{ at: Date; text: string } | null> {
  try {
    const { until, note, names, entries } = await run.rateLimits.record(issuerId, code, limit, orderNames);
    // The other hosts of a fleet hold back too; the fleet link never throws and bounds its own wait.
    await run.deps.fleet?.shareRateLimits(entries, AbortSignal.timeout(FLEET_SHARE_TIMEOUT_MS));
    const what = limit.scope === 'account' ? 'anything (account-wide limit)' : names.join(', ');
    return { at: until, text: `; not asking "${issuerId}" for ${what} again until ${isoSeconds(until)}${note ? ` (${note})` : ''}` };
  } catch (error) {
    const { code: failure, message } = describeError(error);
    run.fail({
      stage: 'issue',
      target: target.id,
      issuer: issuerId,
      code: failure,
      message: `the rate limit could not be recorded in ${run.rateLimits.file}: ${message}`,
      next: 'the next run may ask the CA again',
      severity: 'warning',
    });
    return null;
  }
}
