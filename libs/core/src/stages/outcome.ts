import type { TargetResult } from '../report.js';

/** How one target ended, and what the run did or would do about it, in words. */
export interface TargetOutcome {
  result: TargetResult;
  actions: string[];
}

/** A target stopped by SIGINT/SIGTERM: nothing new was started; `done` says what was, before. */
export function interrupted(where: string, done: string[] = []): TargetOutcome {
  return { result: 'interrupted', actions: [...done, `interrupted during ${where}: nothing new was started; what was installed before stays`] };
}
