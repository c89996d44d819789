import { issuerStateDir } from '../config/config.js';
import type { Issuer } from '../contracts.js';
import { dcvCheckOptionsOf } from '../dcv-check-options.js';
import { mayShrink, namesLost } from '../coverage.js';
import type { Target } from '../model.js';
import { isoSeconds } from '../rate-limits.js';
import type { ServiceState } from './inspect.js';
import { localDcv, type DcvVerdicts } from './local-dcv.js';
import type { RunContext } from './run-context.js';

/**
 * AutoSSL's rule for a certificate that lacks some of the target's names: it stays while none of them passes local
 * DCV (each failure is said, with its reason, on every run); returns the action in words, or null to order now.
 */
export async function keepUncoverable(
  run: RunContext,
  target: Target,
  chain: Issuer[],
  names: string[],
  uncovered: string[],
  verdicts: DcvVerdicts,
  signal: AbortSignal,
): Promise<string | null> {
  const candidates = uncovered.filter((name) => names.includes(name));
  const ca = chain.find((issuer) => issuer.trusted);
  if (!ca) return null;
  const keep = `kept the certificate: it covers every name that can be validated now; not covered: ${uncovered.join(', ')}`;
  if (candidates.length === 0) return `${keep} (excluded by dcv.exclude)`;
  if (ca.precheck === 'none') return null;
  const request = {
    family: ca.precheck,
    issuerId: ca.id,
    checkOptions: await dcvCheckOptionsOf(ca, issuerStateDir(run.deps.config, ca.id)),
    onFailure: 'keep the current certificate; order again once the name passes',
    verdicts,
  };
  const passed = await localDcv(run, target, candidates, request, signal);
  if (passed === null || passed.length > 0) return null;
  return `${keep} (they fail local DCV, see the warnings); a new order is placed once one of them passes, or when the certificate is due`;
}

/**
 * A certificate is not replaced by one that covers fewer of its names unless it is defective otherwise or in its last
 * days: returns the action in words when the order must wait, after saying why; null to order now.
 */
export function deferShrinking(run: RunContext, target: Target, issuer: Issuer, recipients: ServiceState[], orderNames: string[]): string | null {
  const lost = namesLost(recipients, target.names, orderNames);
  if (lost.length === 0) return null;
  const shrink = mayShrink(recipients, run.deps.clock.now(), run.deps.config.inspection.otherThresholdDays);
  if (shrink.allowed) return null;
  const until = isoSeconds(shrink.until!);
  run.fail({
    stage: 'issue',
    target: target.id,
    issuer: issuer.id,
    code: 'ORDER_WOULD_DROP_NAMES',
    message: `not ordering from "${issuer.id}" yet: the new certificate would not cover ${lost.join(', ')}, which the current one covers; it is renewed without them from ${until} if they still fail`,
    next: 'keep the current certificate',
    severity: 'warning',
  });
  return `kept the certificate: a renewal now would drop ${lost.join(', ')}; renewed without them from ${until} if they still fail`;
}
