import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { Target } from '../model.js';
import { RunLock } from '../run-lock.js';
import type { RunContext } from './run-context.js';

/**
 * The one place a target's lock is taken, so that a manual `check --target` and the scheduled run never touch the
 * same files at once. Null when another run holds it (said as a warning: that run handles the target).
 */
export async function lockTarget(run: RunContext, target: Target): Promise<RunLock | null> {
  try {
    return await RunLock.acquire(join(run.deps.config.paths.stateDir, 'locks'), `${target.id}.lock`);
  } catch (error) {
    const { code, message } = describeError(error);
    run.fail({
      stage: 'inspect',
      target: target.id,
      code: code === 'RUN_LOCKED' ? 'TARGET_LOCKED' : code,
      message,
      next: 'skip this target; the other run handles it',
      severity: 'warning',
    });
    return null;
  }
}
