import { caaPrecheck } from '../caa.js';
import { issuerStateDir } from '../config/config.js';
import type { Issuer } from '../contracts.js';
import { dcvCheckOptionsOf } from '../dcv-check-options.js';
import type { Target } from '../model.js';
import { localDcv, type DcvVerdicts } from './local-dcv.js';
import type { RunContext } from './run-context.js';

/** Why an issuer is not asked: its checks refuse the order before it is placed. */
export type Refusal = 'dcv-unavailable' | 'primary-failed' | 'names-failed' | 'caa-forbids';

/** What the pre-order proof of one issuer found: the names it may be asked for, or why not. */
export type Proof =
  | { outcome: 'proved'; names: string[]; failedDcv: string[]; forbiddenByCaa: string[] }
  | { outcome: 'refused'; refusal: Refusal; failedDcv: string[] }
  | { outcome: 'interrupted'; during: string };

export interface ProofRequest {
  issuer: Issuer;
  names: string[];
  /** What the run does when this issuer is refused, for the warnings. */
  next: string;
  verdicts: DcvVerdicts;
  /** A dry run: nothing is published. */
  readOnly: boolean;
}

/**
 * Before an order: local DCV through the issuer's pre-check (names that fail leave the order; the primary name must
 * pass), then CAA for a CA. The same proof serves the run and the dry run, which only shows it.
 */
export async function proveNames(run: RunContext, target: Target, request: ProofRequest, signal: AbortSignal): Promise<Proof> {
  const { issuer, names, readOnly, verdicts } = request;
  const { requireAllNames } = run.deps.config.dcv;
  let proved = names;
  let failedDcv: string[] = [];
  const issuerStateDirOf = issuerStateDir(run.deps.config, issuer.id);
  if (issuer.precheck !== 'none') {
    const checkOptions = await dcvCheckOptionsOf(issuer, issuerStateDirOf);
    const dcv = { family: issuer.precheck, issuerId: issuer.id, checkOptions, verdicts, readOnly };
    const passed = await localDcv(run, target, names, dcv, signal);
    if (signal.aborted) return { outcome: 'interrupted', during: 'local DCV' };
    if (passed === null) return { outcome: 'refused', refusal: 'dcv-unavailable', failedDcv };
    failedDcv = names.filter((n) => !passed.includes(n));
    if (!passed.includes(target.names[0]!)) return { outcome: 'refused', refusal: 'primary-failed', failedDcv };
    if (failedDcv.length > 0 && requireAllNames) return { outcome: 'refused', refusal: 'names-failed', failedDcv };
    proved = passed;
  }
  if (!issuer.trusted) return { outcome: 'proved', names: proved, failedDcv, forbiddenByCaa: [] };
  const { bus } = run.deps;
  const caa = {
    bus,
    resolver: run.deps.resolver,
    issuer,
    target,
    names: proved,
    signal,
    next: request.next,
    requireAllNames,
    issuerStateDir: issuerStateDirOf,
    ...(issuer.precheck === 'none' ? {} : { provedOver: issuer.precheck }),
  };
  const allowed = await caaPrecheck(caa);
  if (signal.aborted) return { outcome: 'interrupted', during: 'the CAA check' };
  if (allowed === null) return { outcome: 'refused', refusal: 'caa-forbids', failedDcv };
  return { outcome: 'proved', names: allowed, failedDcv, forbiddenByCaa: proved.filter((n) => !allowed.includes(n)) };
}
