import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishLedger } from './PublishLedger.js';

describe('PublishLedger', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-ledger-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines = async (path: string) =>
    (await readFile(path, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('keeps one 0600 journal per process however many files it records, and empties it when nothing is left', async () => {
    const ledger = new PublishLedger(join(dir, 'one'));
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await ledger.record(`/srv/www/.well-known/acme-challenge/t${i}`, Buffer.from(`content ${i}`)));
    await ledger.update(ids[0]!, ['/srv/www/.well-known/acme-challenge', '/srv/www/.well-known']);
    expect(await readdir(join(dir, 'one'))).toEqual([ledger.path!.split('/').pop()]);
    expect(ledger.path).toMatch(new RegExp(`/${process.pid}-\\d+-[0-9a-f]{8}\\.jsonl$`));
    expect((await stat(ledger.path!)).mode & 0o777).toBe(0o600);
    const written = await lines(ledger.path!);
    expect(written[0]).toMatchObject({ pid: process.pid });
    expect(written.filter((l) => l.add)).toHaveLength(20);
    expect(written.at(-1)).toEqual({ dirs: ids[0], createdDirs: ['/srv/www/.well-known/acme-challenge', '/srv/www/.well-known'] });
    for (const id of ids.slice(1)) await ledger.forget(id);
    expect((await lines(ledger.path!)).filter((l) => l.forget)).toHaveLength(19);
    await ledger.forget(ids[0]!);
    // Nothing left: the same file, back to its header alone.
    expect(await lines(ledger.path!)).toEqual([{ pid: process.pid, startedAt: expect.any(String) }]);
    await ledger.forget('never-recorded');
    expect(await lines(ledger.path!)).toHaveLength(1);
  });

  it('is removed when its process exits with nothing left in it, and kept for the next run when something is', async () => {
    const script = (forget: boolean) => `
      const { PublishLedger } = await import(${JSON.stringify(new URL('../dist/PublishLedger.js', import.meta.url).href)});
      const ledger = new PublishLedger(${JSON.stringify(join(dir, forget ? 'clean' : 'left'))});
      const id = await ledger.record('/srv/www/x', Buffer.from('x'));
      ${forget ? 'await ledger.forget(id);' : ''}`;
    for (const forget of [true, false]) {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script(forget)], { encoding: 'utf8' });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
    }
    expect(await readdir(join(dir, 'clean'))).toEqual([]);
    const [left] = await readdir(join(dir, 'left'));
    expect((await lines(join(dir, 'left', left!))).map((l) => l.add ?? l.pid)).toEqual([expect.any(Number), expect.any(String)]);
  });

  it("sweeps a dead run's journal and an earlier version's entry files; a file changed since is not removed", async () => {
    const www = join(dir, 'www');
    await mkdir(www, { recursive: true });
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(www, n));
    await writeFile(a!, 'A');
    await writeFile(b!, 'B, edited by the administrator');
    await writeFile(c!, 'C');
    const ledgerDir = join(dir, 'sweep');
    await mkdir(ledgerDir, { recursive: true });
    const deadPid = 4_194_305; // above pid_max: never a live process
    await writeFile(
      join(ledgerDir, `${deadPid}-1-dead.jsonl`),
      `${JSON.stringify({ pid: deadPid, startedAt: 'x' })}\n${JSON.stringify({ add: '1', file: a, sha256: sha('A'), createdDirs: [] })}\n${JSON.stringify({ add: '2', file: b, sha256: sha('B'), createdDirs: [] })}\n{"add":`,
    );
    await writeFile(join(ledgerDir, 'old-entry.json'), JSON.stringify({ file: c, sha256: sha('C'), createdDirs: [], pid: deadPid, createdAt: 'x' }));
    const removed = await new PublishLedger(ledgerDir).sweep();
    expect(removed.sort()).toEqual([a, c]);
    expect(await readdir(www)).toEqual(['b']);
    expect(await readdir(ledgerDir)).toEqual([]);
  });
});

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
