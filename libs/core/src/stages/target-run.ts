import { comparableName } from '../names.js';
import { describeError } from '../errors.js';
import type { Target } from '../model.js';
import { uncoveredOnly } from '../coverage.js';
import type { RunLock } from '../run-lock.js';
import { describePlan, planOrder } from './dry-run.js';
import { inspectTarget, sayInspection, type TargetInspection } from './inspect.js';
import { IssueChain } from './issue-chain.js';
import { keepUncoverable } from './keep-rules.js';
import type { DcvVerdicts } from './local-dcv.js';
import { interrupted, type TargetOutcome } from './outcome.js';
import { repairModes } from './repair.js';
import type { RunContext, RunOptions } from './run-context.js';
import { lockTarget } from './target-lock.js';

/**
 * One target, from inspection to installed. Inspecting only reads: the target's lock is taken once the inspection
 * finds something to write, and the target is then inspected again under it, so that what a concurrent run has just
 * replaced is not replaced again. A healthy run over 10,000 targets takes no lock file at all.
 */
export async function runTarget(run: RunContext, target: Target, options: RunOptions): Promise<TargetOutcome> {
  let lock: RunLock | null = null;
  try {
    const chain = run.issuerChain(target);
    let found = await inspectTarget(run, target, chain, false, options.signal);
    if (found.writes && !found.aborted && !options.dryRun) {
      lock = await lockTarget(run, target);
      if (!lock) return { result: 'skipped', actions: ['skipped: another run is working on this target'] };
      found = await inspectTarget(run, target, chain, true, options.signal);
    }
    return await actOn(run, target, options, found);
  } catch (error) {
    if (options.signal.aborted) return interrupted('this target');
    const { code, message } = describeError(error);
    run.fail({ stage: 'inspect', target: target.id, code, message, next: 'skip this target', severity: 'error' });
    return { result: 'failed', actions: [`stopped: ${message}`] };
  } finally {
    await lock?.release();
  }
}

/** What follows a standing inspection: repairs, the keep rules, then a plan (dry run) or the issuer chain. */
async function actOn(run: RunContext, target: Target, options: RunOptions, found: TargetInspection): Promise<TargetOutcome> {
  // An inspection cut short by an interrupt says nothing reliable (its probes were aborted): none of it is reported.
  if (found.aborted) return interrupted('the inspection');
  sayInspection(run, found);
  if (run.deps.switches.noServiceManagement) return { result: 'unmanaged', actions: ['inspected only: disable_service_certificate_management is set'] };
  const repairs = found.states.some((s) => s.defects.some((d) => d.repair));
  const repaired = repairs ? await repairModes(run, target, found.states, options.dryRun) : [];
  const toReplace = found.states.filter((s) => s.action === 'replace');
  const toUpgrade = found.states.filter((s) => s.action === 'upgrade');
  if (toReplace.length === 0 && toUpgrade.length === 0) return { result: found.broken ? 'failed' : 'healthy', actions: repaired };
  const chain = run.issuerChain(target);
  const names = orderableNames(run, target);
  // A name's local DCV verdict, once per run of the target: a later step (the next issuer, the order after the
  // uncovered-names check) reuses it rather than checking and printing it again.
  const verdicts: DcvVerdicts = new Map();
  // A CA-signed certificate whose only fault is names it lacks stays while none of them can be validated: ordering
  // the same reduced certificate again on every run would only burn the CA's limits.
  const uncovered = options.dryRun ? null : uncoveredOnly([...toReplace, ...toUpgrade]);
  if (uncovered) {
    const kept = await keepUncoverable(run, target, chain, names, uncovered, verdicts, options.signal);
    if (options.signal.aborted) return interrupted('local DCV', repaired);
    if (kept) return { result: 'kept', actions: [...repaired, kept] };
  }
  if (options.dryRun) {
    const plan = await planOrder(run, target, chain, names, [...toReplace, ...toUpgrade], options.signal);
    return plan ? { result: 'planned', actions: [...repaired, ...describePlan(plan, target)] } : interrupted('the dry run', repaired);
  }
  const work = { target, options, chain, toReplace, toUpgrade, names, repaired, current: found.current, verdicts };
  return new IssueChain(run, work).issue();
}

/** The target's names minus what the administrator excluded (compared as DNS does: case, trailing dot, IDN A-labels). */
function orderableNames(run: RunContext, target: Target): string[] {
  const excluded = new Set(run.deps.config.dcv.exclude.map(comparableName));
  return target.names.filter((name) => {
    if (!excluded.has(comparableName(name))) return true;
    const reason = 'excluded by the configuration (dcv.exclude)';
    run.deps.bus.emit('validated', { target: target.id, name, ok: false, method: 'config', reason });
    return false;
  });
}
