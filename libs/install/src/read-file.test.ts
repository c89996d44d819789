import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SMALL_FILE_BYTES, readFile } from './read-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'read-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readSmallFile', () => {
  it('returns the bytes of a small file', async () => {
    const bytes = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await writeFile(join(dir, 'cert.pem'), bytes);
    expect(Buffer.compare(await readFile(join(dir, 'cert.pem')), bytes)).toBe(0);
  });

  it('rejects (never throws) with ENOENT for a missing file, as fs does', async () => {
    const pending = readFile(join(dir, 'missing.pem'));
    await expect(pending).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a FIFO instead of blocking on it', async () => {
    const fifo = join(dir, 'fifo.pem');
    execFileSync('mkfifo', [fifo]);
    await expect(readFile(fifo)).rejects.toMatchObject({ code: 'ENOTREG', message: expect.stringContaining('not a regular file') });
  });

  it('refuses a file over the limit, naming the file and its size, without reading it', async () => {
    const big = join(dir, 'big.pem');
    await writeFile(big, '');
    await truncate(big, MAX_SMALL_FILE_BYTES + 1); // sparse: nothing is written
    await expect(readFile(big)).rejects.toMatchObject({ code: 'EFBIG', message: expect.stringContaining(`${big}: ${MAX_SMALL_FILE_BYTES + 1} bytes`) });
  });
});
