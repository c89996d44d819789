import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishLedger } from './publish-ledger.js';

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
    ledger.recordDir('/srv/www/.well-known', { dev: 1, ino: 2 });
    expect(await readdir(join(dir, 'one'))).toEqual([ledger.path!.split('/').pop()]);
    expect(ledger.path).toMatch(new RegExp(`/${process.pid}-\\d+-[0-9a-f]{8}\\.jsonl$`));
    expect((await stat(ledger.path!)).mode & 0o777).toBe(0o600);
    const written = await lines(ledger.path!);
    expect(written[0]).toMatchObject({ pid: process.pid });
    expect(written.filter((l) => l.add)).toHaveLength(20);
    expect(written.at(-1)).toEqual({ dir: '/srv/www/.well-known', dev: 1, ino: 2 });
    for (const id of ids.slice(1)) await ledger.forget(id);
    expect((await lines(ledger.path!)).filter((l) => l.forget)).toHaveLength(19);
    await ledger.forget(ids[0]!);
    // No file left: the same file, back to its header and the directories made, which stay for the run.
    expect(await lines(ledger.path!)).toEqual([
      { pid: process.pid, startedAt: expect.any(String) },
      { dir: '/srv/www/.well-known', dev: 1, ino: 2 },
    ]);
    await ledger.forget('never-recorded');
    expect(await lines(ledger.path!)).toHaveLength(2);
  });

  it('removes at close() the empty directories it made, deepest first; never one it did not make, one made anew, or one in use', async () => {
    const www = join(dir, 'close-www');
    const admins = join(www, 'admins'); // made by an administrator: never recorded
    const ours = join(admins, 'acme-challenge');
    const busy = join(www, 'busy'); // ours, but someone put a file in it
    const replaced = join(www, 'replaced'); // ours, removed and made again by someone else during the run
    const ledger = new PublishLedger(join(dir, 'close'));
    await ledger.record(join(ours, 'token'), Buffer.from('k')).then((id) => ledger.forget(id));
    await mkdir(admins, { recursive: true });
    for (const made of [ours, busy, replaced]) {
      await mkdir(made);
      ledger.recordDir(made, lstatSync(made));
    }
    await writeFile(join(busy, 'index.html'), 'theirs');
    await rmdir(replaced);
    await writeFile(join(www, 'filler'), ''); // the next directory must not get the removed one's inode back
    await mkdir(replaced);
    const journal = ledger.path!;
    ledger.close();
    expect((await readdir(www)).sort()).toEqual(['admins', 'busy', 'filler', 'replaced']);
    expect(await readdir(admins)).toEqual([]);
    expect(await readdir(busy)).toEqual(['index.html']);
    await expect(stat(journal)).rejects.toThrowError(/ENOENT/); // nothing left published: the journal goes too
  });

  it('is removed when its process exits with nothing left in it, and kept for the next run when something is', async () => {
    const script = (forget: boolean) => `
      const { PublishLedger } = await import(${JSON.stringify(new URL('../dist/publish-ledger.js', import.meta.url).href)});
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

  it("sweeps a killed run's directories: only those it made, still the same and empty, deepest first", async () => {
    const www = join(dir, 'killed-www');
    await mkdir(join(www, '.well-known'), { recursive: true }); // the administrator's
    const ledgerDir = join(dir, 'killed');
    // A child records a file and the directory it makes under the administrator's .well-known, then is killed.
    const script = `
      const { mkdirSync, lstatSync, writeFileSync } = await import('node:fs');
      const { PublishLedger } = await import(${JSON.stringify(new URL('../dist/publish-ledger.js', import.meta.url).href)});
      const ledger = new PublishLedger(${JSON.stringify(ledgerDir)});
      const dir = ${JSON.stringify(join(www, '.well-known', 'acme-challenge'))};
      await ledger.record(dir + '/token', Buffer.from('key'));
      mkdirSync(dir);
      ledger.recordDir(dir, lstatSync(dir));
      writeFileSync(dir + '/token', 'key');
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    expect(await readdir(join(www, '.well-known', 'acme-challenge'))).toEqual(['token']);
    const removed = await new PublishLedger(ledgerDir).sweep();
    expect(removed).toEqual([join(www, '.well-known', 'acme-challenge', 'token')]);
    expect(await readdir(www)).toEqual(['.well-known']);
    expect(await readdir(join(www, '.well-known'))).toEqual([]);
    expect(await readdir(ledgerDir)).toEqual([]);
  });

  it('sweeps no directory of a dead journal that was made anew since (another inode) or is not empty', async () => {
    const www = join(dir, 'anew-www');
    const [anew, full] = [join(www, 'anew'), join(www, 'full')];
    await mkdir(anew, { recursive: true });
    await mkdir(full);
    await writeFile(join(full, 'keep'), '');
    const deadPid = 4_194_305;
    const ledgerDir = join(dir, 'anew');
    await mkdir(ledgerDir);
    const ino = lstatSync(anew).ino;
    await writeFile(
      join(ledgerDir, `${deadPid}-1-dead.jsonl`),
      [
        { pid: deadPid, startedAt: 'x' },
        { dir: anew, dev: lstatSync(anew).dev, ino: ino + 1 },
        { dir: full, ...devIno(full) },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    await new PublishLedger(ledgerDir).sweep();
    expect((await readdir(www)).sort()).toEqual(['anew', 'full']);
  });
});

function devIno(path: string): { dev: number; ino: number } {
  const st = lstatSync(path);
  return { dev: st.dev, ino: st.ino };
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
