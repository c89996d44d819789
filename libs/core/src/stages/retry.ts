import { describeError } from '../errors.js';
import type { Target } from '../model.js';
import type { RunContext, RunOptions } from './run-context.js';

/** Schedules one re-run of the target (`--allow-retry`), not before `notBefore`; returns what was done, in words. */
export async function scheduleRetry(run: RunContext, target: Target, options: RunOptions, notBefore?: Date): Promise<string> {
  const { scheduler, config, clock } = run.deps;
  const at = { stage: 'schedule' as const, target: target.id, next: 'the next scheduled run resumes the order', severity: 'warning' as const };
  if (!scheduler) {
    run.fail({ ...at, code: 'NO_SCHEDULER', message: '--allow-retry needs a scheduler plugin (e.g. @certsmith/scheduler-at)' });
    return 'no retry scheduled: no scheduler plugin';
  }
  // The config file is in the tag: two certsmith setups on one host (or parallel tests) keep apart.
  const tag = `certsmith-retry:${target.id}:${config.file}`;
  try {
    const queued = (await scheduler.list()).find((job) => job.tag === tag);
    if (queued) return `retry already scheduled as job ${queued.id} at ${queued.runAt}`;
    const untilLimit = notBefore ? Math.ceil((notBefore.getTime() - clock.now().getTime()) / 60_000) : 0;
    const ref = await scheduler.schedule({ command: options.retryCommand, delayMinutes: Math.max(config.retry.delayMinutes, untilLimit), tag });
    return `retry scheduled as job ${ref.id} at ${ref.runAt}`;
  } catch (error) {
    const { code, message } = describeError(error);
    run.fail({ ...at, code, message });
    return `no retry scheduled: ${message}`;
  }
}
