import type { DcvCheckOptions } from './contracts.js';
import type { Target } from './model.js';
import type { TargetResult } from './report.js';
import { localDcv } from './stages/local-dcv.js';
import { RunContext, type PipelineDeps, type RunOptions } from './stages/run-context.js';
import { runTarget } from './stages/target-run.js';

export type { PipelineDeps, RunOptions } from './stages/run-context.js';
export { decideAction, statusOf } from './stages/inspect.js';
export { comparableName } from './names.js';

/**
 * One run over the targets. Each target goes through the stages in libs/core/src/stages: inspect → (healthy: stop)
 * → lock → repair → keep rules → plan (dry run) or the issuer chain (prove, order) → install. Every step is an event
 * on the bus; a failure anywhere is a `failed` event and the next fallback, never an exception out of a target.
 * Targets are independent.
 */
export class Pipeline {
  private readonly context: RunContext;

  constructor(deps: PipelineDeps) {
    this.context = new RunContext(deps);
  }

  async run(targets: Target[], options: RunOptions): Promise<void> {
    const { report, fleet } = this.context.deps;
    // What the other hosts of a fleet met holds this host back too, read when a first order is weighed (the link
    // bounds its wait and never throws): a run that orders nothing does not ask the fleet.
    if (fleet) this.context.rateLimits.shareFrom(() => fleet.sharedRateLimits(options.signal), `fleet "${fleet.id}" rate limits`);
    let next = 0;
    const worker = async () => {
      while (next < targets.length && !options.signal.aborted) {
        const target = targets[next++]!;
        await this.runTarget(target, options);
        options.onTargetDone?.(target.id);
      }
    };
    for (const target of targets) report.begin(target.id, target.names);
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, targets.length)) }, worker));
    // An interrupt starts no new target: those not reached are said to be unchecked, not healthy.
    for (const target of targets.slice(next)) report.conclude(target.id, 'interrupted', ['not checked: the run was interrupted']);
  }

  async runTarget(target: Target, options: RunOptions): Promise<TargetResult> {
    const { result, actions } = await runTarget(this.context, target, options);
    this.context.deps.report.conclude(target.id, result, actions);
    return result;
  }

  /**
   * Local DCV alone (`certsmith dcv`): the names of the target that pass the family's probe, or null when no DCV
   * method of that family is loaded.
   */
  localDcv(target: Target, names: string[], family: 'http' | 'dns', signal: AbortSignal, checkOptions?: DcvCheckOptions): Promise<string[] | null> {
    return localDcv(this.context, target, names, { family, checkOptions }, signal);
  }
}
