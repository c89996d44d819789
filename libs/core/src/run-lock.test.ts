import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { RunLock } from './run-lock.js';

describe('RunLock', () => {
  it('holds the lock with its pid and releases it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-'));
    const lock = await RunLock.acquire(dir);
    expect(await readFile(join(dir, 'run.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await expect(RunLock.acquire(dir)).rejects.toThrow(UsageError);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock whose process is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-'));
    const dead = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    await writeFile(join(dir, 'run.lock'), `${dead}\n`);
    const lock = await RunLock.acquire(dir);
    expect(await readFile(join(dir, 'run.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('lets exactly one of many concurrent takers win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-'));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => RunLock.acquire(dir)));
    // One process here, so every attempt names our own live pid: exactly one link(2) can succeed.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['run.lock']);
  });
});
