import { X509Certificate } from 'node:crypto';
import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateSummary, NewMaterial, Target } from '@certsmith/core';
import { createCa, labDir, type LabCa, type LabCert } from '@certsmith/testlab';
import { FilesInstaller } from './files-installer.js';

const TARGET: Target = { id: 'shop', names: ['shop.example.test', 'www.shop.example.test'], services: ['files'], kind: 'site' };
const signal = new AbortController().signal;

let dir: { path: string; cleanup: () => Promise<void> };
let ca: LabCa;
let leaf: LabCert;
let other: LabCert;

function material(cert: LabCert, keyPem = cert.keyPem): NewMaterial {
  const x509 = new X509Certificate(cert.certPem);
  // Only what the installer reads of the summary: the names and the fingerprint.
  const summary = { names: TARGET.names, fingerprint: x509.fingerprint256.replace(/:/g, '').toLowerCase() } as CertificateSummary;
  return { certificatePem: cert.certPem, chainPem: [ca.certPem], keyPem, summary, issuerId: 'lab', selfSigned: false };
}

beforeAll(async () => {
  dir = await labDir('installer-files');
  ca = await createCa(join(dir.path, 'ca'));
  leaf = await ca.issue('shop', { san: TARGET.names });
  other = await ca.issue('other', { san: TARGET.names });
});
afterAll(() => dir?.cleanup());

describe('FilesInstaller', () => {
  it('writes fullchain, privkey (0600), cert and chain under <root>/<target id>; read() and prove() see them', async () => {
    const installer = new FilesInstaller(join(dir.path, 'live-1'));
    const live = join(dir.path, 'live-1', 'shop');
    expect((await installer.read(TARGET)).sources.map((s) => ('error' in s ? s.error : 'ok'))).toEqual(['missing', 'missing']);
    const receipt = await installer.install(TARGET, material(leaf), { dryRun: false, signal });
    expect(receipt.files).toEqual(['privkey.pem', 'cert.pem', 'chain.pem', 'fullchain.pem'].map((f) => join(live, f)));
    expect((await readdir(live)).sort()).toEqual(['cert.pem', 'chain.pem', 'fullchain.pem', 'privkey.pem']);
    expect(await readFile(join(live, 'fullchain.pem'), 'utf8')).toBe(leaf.certPem + ca.certPem);
    expect(await readFile(join(live, 'cert.pem'), 'utf8')).toBe(leaf.certPem);
    expect(await readFile(join(live, 'chain.pem'), 'utf8')).toBe(ca.certPem);
    expect((await stat(join(live, 'privkey.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(live, 'fullchain.pem'))).mode & 0o777).toBe(0o644);
    const read = await installer.read(TARGET);
    expect(read.sources.map((s) => [s.path, s.role])).toEqual([
      [join(live, 'fullchain.pem'), 'certificate'],
      [join(live, 'privkey.pem'), 'key'],
    ]);
    expect(await installer.prove(receipt)).toEqual({ ok: true, observations: [] });
  });

  it("reads the key file's mode and narrows privkey.pem in place, and nothing else", async () => {
    const installer = new FilesInstaller(join(dir.path, 'live-5'));
    const live = join(dir.path, 'live-5', 'shop');
    await installer.install(TARGET, material(leaf), { dryRun: false, signal });
    await chmod(join(live, 'privkey.pem'), 0o644);
    expect((await installer.read(TARGET)).sources[1]).toMatchObject({ role: 'key', mode: 0o644 });
    await installer.restrictMode(join(live, 'privkey.pem'), 0o600);
    expect((await stat(join(live, 'privkey.pem'))).mode & 0o777).toBe(0o600);
    await expect(installer.restrictMode(join(live, 'fullchain.pem'), 0o600)).rejects.toThrow(/not one of its key files/);
    await expect(installer.restrictMode(join(dir.path, 'privkey.pem'), 0o600)).rejects.toThrow(/not one of its key files/);
  });

  it("refuses a key that is not the certificate's and writes nothing", async () => {
    const installer = new FilesInstaller(join(dir.path, 'live-2'));
    await expect(installer.install(TARGET, material(leaf, other.keyPem), { dryRun: false, signal })).rejects.toMatchObject({ code: 'INSTALL_REFUSED' });
    expect(await readdir(join(dir.path, 'live-2')).catch(() => [])).toEqual([]);
  });

  it('a dry run names the files and writes none', async () => {
    const installer = new FilesInstaller(join(dir.path, 'live-3'));
    const receipt = await installer.install(TARGET, material(leaf), { dryRun: true, signal });
    expect(receipt.files).toHaveLength(4);
    expect(installer.plan({ selfSigned: false }, TARGET)).toEqual({ files: receipt.files, reload: null });
    expect(await readdir(join(dir.path, 'live-3')).catch(() => [])).toEqual([]);
  });

  it('rollback puts back the files of before; prove() fails when the files do not hold the new leaf', async () => {
    const installer = new FilesInstaller(join(dir.path, 'live-4'));
    const live = join(dir.path, 'live-4', 'shop');
    await installer.install(TARGET, material(leaf), { dryRun: false, signal });
    const second = await installer.install(TARGET, material(other), { dryRun: false, signal });
    expect(await readFile(join(live, 'cert.pem'), 'utf8')).toBe(other.certPem);
    await installer.rollback(second);
    expect(await readFile(join(live, 'cert.pem'), 'utf8')).toBe(leaf.certPem);
    expect(await readFile(join(live, 'privkey.pem'), 'utf8')).toBe(leaf.keyPem.endsWith('\n') ? leaf.keyPem : `${leaf.keyPem}\n`);
    expect((await stat(join(live, 'privkey.pem'))).mode & 0o777).toBe(0o600);
    const proof = await installer.prove(second);
    expect(proof.ok).toBe(false);
    expect(proof.reason).toContain('fullchain.pem does not hold the installed certificate');
    await writeFile(join(live, 'fullchain.pem'), 'garbage');
    expect((await installer.prove(second)).ok).toBe(false);
  });
});
