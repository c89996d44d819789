import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAtd, sleep } from '@certsmith/testlab';
import { AtScheduler, DEFAULT_AT_OPTIONS, shellQuote } from './at-scheduler.js';

describe('AtScheduler on the real at queue', () => {
  const scheduler = new AtScheduler(DEFAULT_AT_OPTIONS);
  const tag = `test-${randomBytes(4).toString('hex')}`;
  let dir: string;
  beforeAll(async () => {
    await ensureAtd();
    dir = await mkdtemp(join(tmpdir(), 'certsmith-at-'));
  });
  afterAll(async () => {
    for (const job of await scheduler.list(tag)) await scheduler.cancel(job);
    await rm(dir, { recursive: true, force: true });
  });

  it('queues a tagged job about an hour later, lists it by tag, shows the quoted command, removes it', async () => {
    const before = Date.now();
    const ref = await scheduler.schedule({ command: ['/bin/echo', "it's", '--a b'], delayMinutes: 60, tag });
    expect(Number(ref.id)).toBeGreaterThan(0);
    const runAt = new Date(ref.runAt).getTime();
    expect(runAt - before).toBeGreaterThan(58 * 60_000);
    expect(runAt - before).toBeLessThan(62 * 60_000);
    const listed = await scheduler.list(tag);
    expect(listed.map((j) => j.id)).toEqual([ref.id]);
    expect((await scheduler.list()).some((j) => j.id === ref.id)).toBe(true);
    await scheduler.cancel(ref);
    expect(await scheduler.list(tag)).toEqual([]);
  });

  it('a job really runs (at now), with its arguments intact', async () => {
    const out = join(dir, 'ran.txt');
    await scheduler.scheduleAt({ command: ['/bin/sh', '-c', `printf '%s' "$1" > ${out}`, 'sh', "a 'quoted' arg"], tag }, 'now');
    let text = '';
    for (let i = 0; i < 200 && !text; i++) {
      text = await readFile(out, 'utf8').catch(() => '');
      if (!text) await sleep(100);
    }
    expect(text).toBe("a 'quoted' arg");
  });

  it('quotes for the shell', () => {
    expect(shellQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('-x5Pj')).toBe('-x5Pj');
  });
});
