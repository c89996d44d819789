import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mustRun } from '@certsmith/testlab';
import { Docroot } from './docroot.js';

let base: string;
let root: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'certsmith-docroot-'));
  root = join(base, 'html');
  await mkdir(root);
});
afterEach(() => rm(base, { recursive: true, force: true }));

const bytes = (s: string) => new Uint8Array(Buffer.from(s));

describe('Docroot', () => {
  it('creates the file 0644 and its directories 0755 whatever the umask, tells of each directory made, and removes only the file', async () => {
    const old = process.umask(0o077);
    try {
      const docroot = new Docroot(root, 'docroot');
      const told: string[] = [];
      const written = await docroot.write('/.well-known/pki-validation/ABC.txt', bytes('hello'), (dir, st) => {
        expect(st.isDirectory()).toBe(true);
        told.push(dir);
      });
      expect(told).toEqual([join(root, '.well-known'), join(root, '.well-known/pki-validation')]);
      expect(written.createdDirs).toEqual([join(root, '.well-known/pki-validation'), join(root, '.well-known')]);
      expect(written.file).toBe(join(root, '.well-known/pki-validation/ABC.txt'));
      expect((await stat(written.file)).mode & 0o777).toBe(0o644);
      expect((await stat(join(root, '.well-known'))).mode & 0o777).toBe(0o755);
      expect((await stat(join(root, '.well-known/pki-validation'))).mode & 0o777).toBe(0o755);
      expect(await readFile(written.file, 'utf8')).toBe('hello');
      await docroot.remove(written);
      // The directories stay for the run's next challenge: whoever was told of them removes them at its end.
      expect(await readdir(join(root, '.well-known/pki-validation'))).toEqual([]);
    } finally {
      process.umask(old);
    }
  });

  it('tells only of the directories it made, not of those that existed before', async () => {
    await mkdir(join(root, '.well-known'));
    const docroot = new Docroot(root, 'docroot');
    const told: string[] = [];
    const a = await docroot.write('/.well-known/acme-challenge/tokenA', bytes('a'), (dir) => told.push(dir));
    const b = await docroot.write('/.well-known/acme-challenge/tokenB', bytes('b'), (dir) => told.push(dir));
    expect(told).toEqual([join(root, '.well-known/acme-challenge')]);
    expect(b.createdDirs).toEqual([]);
    await docroot.remove(a);
    expect(await readdir(join(root, '.well-known/acme-challenge'))).toEqual(['tokenB']);
    await docroot.remove(b);
    expect(await readdir(join(root, '.well-known/acme-challenge'))).toEqual([]);
  });

  it('creates exclusively: an identical file is taken over (a leftover of this challenge), another file is refused and kept', async () => {
    await mkdir(join(root, '.well-known/pki-validation'), { recursive: true });
    await writeFile(join(root, '.well-known/pki-validation/SAME.txt'), 'same');
    await writeFile(join(root, '.well-known/pki-validation/OTHER.txt'), 'theirs');
    const docroot = new Docroot(root, 'docroot');
    const same = await docroot.write('/.well-known/pki-validation/SAME.txt', bytes('same'));
    await docroot.remove(same);
    expect(await readdir(join(root, '.well-known/pki-validation'))).toEqual(['OTHER.txt']);
    await expect(docroot.write('/.well-known/pki-validation/OTHER.txt', bytes('mine'))).rejects.toThrowError(/already exists with other content/);
    expect(await readFile(join(root, '.well-known/pki-validation/OTHER.txt'), 'utf8')).toBe('theirs');
  });

  it('refuses a symlink in the docroot that leads outside it, and writes nothing there', async () => {
    const outside = join(base, 'outside');
    await mkdir(outside);
    await symlink(outside, join(root, '.well-known'));
    const docroot = new Docroot(root, 'options.docroot');
    await expect(docroot.write('/.well-known/pki-validation/X.txt', bytes('x'))).rejects.toMatchObject({
      code: 'DCV_HTTP_DOCROOT_SYMLINK',
      message: expect.stringMatching(/is a symlink to .*outside the docroot/),
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('refuses a symlink at the file name itself (O_EXCL does not follow it)', async () => {
    const outside = join(base, 'victim');
    await writeFile(outside, 'keep');
    await mkdir(join(root, '.well-known/acme-challenge'), { recursive: true });
    await symlink(outside, join(root, '.well-known/acme-challenge/tok12345'));
    const docroot = new Docroot(root, 'docroot');
    await expect(docroot.write('/.well-known/acme-challenge/tok12345', bytes('x'))).rejects.toThrowError(/already exists with other content \(a symlink\)/);
    expect(await readFile(outside, 'utf8')).toBe('keep');
  });

  it('follows a symlink that stays inside the docroot', async () => {
    await mkdir(join(root, 'real-wk'));
    await symlink(join(root, 'real-wk'), join(root, '.well-known'));
    const written = await new Docroot(root, 'docroot').write('/.well-known/x/F.txt', bytes('f'));
    expect(await readFile(join(root, 'real-wk/x/F.txt'), 'utf8')).toBe('f');
    expect(written.file).toBe(join(root, '.well-known/x/F.txt'));
  });

  it('names the field and says what to do when the docroot is missing or not a directory', async () => {
    await expect(new Docroot(join(base, 'nope'), 'options.docroot of @certsmith/dcv-http').ensureUsable()).rejects.toThrowError(
      /options.docroot of @certsmith\/dcv-http: the docroot .*nope does not exist; set it/,
    );
    await writeFile(join(base, 'file'), '');
    await expect(new Docroot(join(base, 'file'), 'docroot').ensureUsable()).rejects.toThrowError(/is not a directory/);
  });

  it('says when the docroot is not writable (immutable here, since tests run as root)', async () => {
    await mustRun('chattr', ['+i', root]);
    try {
      await expect(new Docroot(root, 'docroot').write('/.well-known/pki-validation/X.txt', bytes('x'))).rejects.toThrowError(
        /docroot: the docroot .* is not writable by this user/,
      );
    } finally {
      await mustRun('chattr', ['-i', root]);
    }
    expect(await readdir(root)).toEqual([]);
  });

  it('lets many targets that share a docroot publish and clean up at once (one instance per challenge); each directory is made once', async () => {
    const told: string[] = [];
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const docroot = new Docroot(root, 'docroot');
          const written = await docroot.write(`/.well-known/acme-challenge/token-${round}-${i}`, bytes(`key-${i}`), (dir) => told.push(dir));
          expect(await readFile(written.file, 'utf8')).toBe(`key-${i}`);
          await docroot.remove(written);
        }),
      );
    }
    expect(told).toEqual([join(root, '.well-known'), join(root, '.well-known/acme-challenge')]);
    expect(await readdir(join(root, '.well-known/acme-challenge'))).toEqual([]);
  });

  it('takes over a file published twice (a leftover of the same challenge): one removal takes it away', async () => {
    const docroot = new Docroot(root, 'docroot');
    await docroot.write('/.well-known/acme-challenge/again123', bytes('k'));
    const again = await docroot.write('/.well-known/acme-challenge/again123', bytes('k'));
    await docroot.remove(again);
    expect(await readdir(join(root, '.well-known/acme-challenge'))).toEqual([]);
  });

  it('refuses paths that climb out', async () => {
    await expect(new Docroot(root, 'docroot').write('/.well-known/../../x', bytes('x'))).rejects.toThrowError(/not a plain path/);
  });
});
