import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './errors.js';

/**
 * Only one run at a time. The lock file holds the owner's pid; it is created with link(2), which is atomic,
 * so two runs cannot both believe they hold it. A lock whose pid is no longer alive is taken over.
 */
export class RunLock {
  private constructor(readonly path: string) {}

  static async acquire(stateDir: string, name = 'run.lock'): Promise<RunLock> {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const path = join(stateDir, name);
    const claim = `${path}.${process.pid}`;
    await writeFile(claim, `${process.pid}\n`, { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await link(claim, path);
          return new RunLock(path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const holder = await readFile(path, 'utf8').catch(() => '');
        const pid = Number.parseInt(holder, 10);
        if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
          throw new UsageError('RUN_LOCKED', `${path}: held by another certsmith run (pid ${pid}); wait for it to finish`);
        }
        // Stale: the holder died without cleaning up. Remove it only if it still names the dead pid.
        const again = await readFile(path, 'utf8').catch(() => '');
        if (again === holder) await unlink(path).catch(() => undefined);
      }
      throw new UsageError('RUN_LOCKED', `${path}: could not take the run lock`);
    } finally {
      await unlink(claim).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    const holder = await readFile(this.path, 'utf8').catch(() => '');
    if (Number.parseInt(holder, 10) === process.pid) await unlink(this.path).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
