import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CertsmithError, RunLock } from '@certsmith/core';

// Within one process the lock file names the process itself: calls for the same file queue here first.
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` holding the ACME account lock of an issuer's state directory (`account.lock`), so that two runs
 * starting together (the scheduled one and a manual `check --target`) create one account, not two, and never
 * spend an EAB key twice. Unlike the run lock it WAITS for the other run, up to `waitMs`, then fails with
 * ACCOUNT_LOCKED naming the file and the process holding it. A lock whose process died is taken over.
 */
export async function withAccountLock<T>(stateDir: string, options: { waitMs: number; signal: AbortSignal }, work: () => Promise<T>): Promise<T> {
  const path = join(stateDir, 'account.lock');
  const before = queues.get(path) ?? Promise.resolve();
  const run = before
    .catch(() => undefined)
    .then(async () => {
      const lock = await acquire(stateDir, path, options);
      try {
        return await work();
      } finally {
        await lock.release();
      }
    });
  const tail = run.catch(() => undefined);
  queues.set(path, tail);
  void tail.then(() => {
    if (queues.get(path) === tail) queues.delete(path);
  });
  return run;
}

async function acquire(stateDir: string, path: string, options: { waitMs: number; signal: AbortSignal }): Promise<RunLock> {
  const deadline = Date.now() + options.waitMs;
  for (let attempt = 0; ; attempt++) {
    options.signal.throwIfAborted();
    try {
      return await RunLock.acquire(stateDir, 'account.lock');
    } catch (error) {
      if (!(error instanceof CertsmithError) || error.code !== 'RUN_LOCKED') throw error;
    }
    if (Date.now() >= deadline) {
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      throw new CertsmithError(
        'ACCOUNT_LOCKED',
        `waited ${(options.waitMs / 1000).toFixed(options.waitMs % 1000 ? 1 : 0)} s for ${path}, held by ${Number.isInteger(holder) ? `pid ${holder}` : 'another run'} while it sets up the ACME account: the next run tries again (remove the file only if no certsmith process is running)`,
      );
    }
    // Creating an account takes a second or two: ask often at first, then less.
    await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), Math.max(10, deadline - Date.now())), undefined, { signal: options.signal });
  }
}
