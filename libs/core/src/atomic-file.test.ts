import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFilesAtomic, writePrivateFileAtomic } from './atomic-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certsmith-atomic-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('writeFilesAtomic', () => {
  it('writes every file with its mode whatever the umask, replacing what was there, and leaves no temp file', async () => {
    await writeFile(join(dir, 'cert.pem'), 'old cert');
    const old = process.umask(0o077);
    try {
      await writeFilesAtomic([
        { path: join(dir, 'cert.pem'), data: 'new cert', mode: 0o644 },
        { path: join(dir, 'key.pem'), data: Buffer.from('new key'), mode: 0o600 },
      ]);
    } finally {
      process.umask(old);
    }
    expect(await readFile(join(dir, 'cert.pem'), 'utf8')).toBe('new cert');
    expect(await readFile(join(dir, 'key.pem'), 'utf8')).toBe('new key');
    expect((await stat(join(dir, 'cert.pem'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'key.pem'))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(['cert.pem', 'key.pem']);
  });

  it('renames none when one temp file cannot be written, and removes the temp files it made', async () => {
    await writeFile(join(dir, 'cert.pem'), 'old cert');
    await expect(
      writeFilesAtomic([
        { path: join(dir, 'cert.pem'), data: 'new cert', mode: 0o644 },
        { path: join(dir, 'no-such-dir', 'key.pem'), data: 'new key', mode: 0o600 },
      ]),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(dir, 'cert.pem'), 'utf8')).toBe('old cert');
    expect(await readdir(dir)).toEqual(['cert.pem']);
  });

  it('writeFileAtomic writes one file the same way', async () => {
    await writeFileAtomic(join(dir, 'state.json'), '{}', { mode: 0o600 });
    expect(await readFile(join(dir, 'state.json'), 'utf8')).toBe('{}');
    expect((await stat(join(dir, 'state.json'))).mode & 0o777).toBe(0o600);
  });

  it('exclusive: writes a new file, but never replaces one that is there', async () => {
    const file = join(dir, 'config.json');
    await writeFileAtomic(file, 'first', { mode: 0o600, exclusive: true });
    await expect(writeFileAtomic(file, 'second', { mode: 0o600, exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(file, 'utf8')).toBe('first');
    expect(await readdir(dir)).toEqual(['config.json']);
  });

  it('writePrivateFileAtomic makes a missing directory 0700 and the file 0600', async () => {
    const file = join(dir, 'state', 'pending.json');
    await writePrivateFileAtomic(file, '{}');
    expect((await stat(join(dir, 'state'))).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
