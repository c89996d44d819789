import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type FailedEvent, type NewMaterial, type Target } from '@certsmith/core';
import { CertificateInspector } from '@certsmith/x509';
import { FileInstaller, type FileInstallerOptions } from './file-installer.js';
import { pairLayout } from './layouts.js';

const TARGET: Target = { id: 'hostname', names: ['host.example.test'], services: ['dovecot'], kind: 'hostname' };
const inspector = new CertificateInspector();
let root: string;
let pki: string;

/** A key and a certificate for `names`, signed by the throw-away CA (or self-signed). */
function issue(name: string, names: string[], selfSigned = false): NewMaterial {
  const key = join(pki, `${name}.key`);
  const crt = join(pki, `${name}.crt`);
  const ext = join(pki, `${name}.ext`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  execFileSync('sh', ['-c', `printf 'subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\\nextendedKeyUsage=serverAuth\\n' > ${ext}`]);
  if (selfSigned) {
    execFileSync('openssl', [
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      `/CN=${names[0]}`,
      '-days',
      '30',
      '-addext',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      '-out',
      crt,
    ]);
  } else {
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${names[0]}`, '-out', `${crt}.csr`]);
    execFileSync('openssl', [
      'x509',
      '-req',
      '-in',
      `${crt}.csr`,
      '-CA',
      join(pki, 'ca.crt'),
      '-CAkey',
      join(pki, 'ca.key'),
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      ext,
      '-out',
      crt,
    ]);
  }
  const certificatePem = execFileSync('cat', [crt], { encoding: 'utf8' });
  return {
    certificatePem,
    chainPem: selfSigned ? [] : [execFileSync('cat', [join(pki, 'ca.crt')], { encoding: 'utf8' })],
    keyPem: execFileSync('cat', [key], { encoding: 'utf8' }),
    summary: inspector.summarize(certificatePem),
    issuerId: 'test',
    selfSigned,
  };
}

let A: NewMaterial;
let B: NewMaterial;
let C: NewMaterial;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'certsmith-install-'));
  pki = join(root, 'pki');
  await mkdir(pki);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '30',
      '-subj',
      '/CN=Install Test CA',
      '-keyout',
      join(pki, 'ca.key'),
      '-out',
      join(pki, 'ca.crt'),
    ],
    { stdio: 'ignore' },
  );
  A = issue('a', ['host.example.test']);
  B = issue('b', ['host.example.test', 'mail.example.test']);
  C = issue('c', ['host.example.test'], true);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
async function sandbox(
  overrides: Partial<FileInstallerOptions> = {},
): Promise<{ installer: FileInstaller; dir: string; state: string; options: FileInstallerOptions }> {
  const base = join(root, `case-${counter++}`);
  const dir = join(base, 'ssl', 'dovecot');
  const state = join(base, 'state');
  await mkdir(join(base, 'ssl'), { recursive: true });
  const options: FileInstallerOptions = {
    service: 'dovecot',
    layout: { ...pairLayout('dovecot')(dir), metadataDir: dir },
    endpoints: [],
    reload: null,
    reloadTimeoutMs: 2_000,
    stateDir: state,
    ...overrides,
  };
  return { installer: new FileInstaller(options), dir, state, options };
}

const fingerprintOf = (m: NewMaterial) => m.summary.fingerprint;

/** The leaf fingerprint in a file and whether the key file belongs to it. */
async function pairIn(certFile: string, keyFile: string): Promise<{ fingerprint: string; matches: boolean }> {
  const cert = new X509Certificate(await readFile(certFile));
  return { fingerprint: createHash('sha256').update(cert.raw).digest('hex'), matches: cert.checkPrivateKey(createPrivateKey(await readFile(keyFile))) };
}

async function installAndProve(installer: FileInstaller, material: NewMaterial) {
  const receipt = await installer.install(TARGET, material, { dryRun: false, signal: AbortSignal.timeout(10_000) });
  const proof = await installer.prove(receipt, AbortSignal.timeout(10_000));
  return { receipt, proof };
}

describe('FileInstaller', () => {
  it('installs a pair as links into one generation, with modes, metadata and a cleared journal', async () => {
    const { installer, dir, state } = await sandbox();
    const { receipt, proof } = await installAndProve(installer, A);
    expect(proof.ok).toBe(true);
    expect(receipt.files).toEqual([join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key')]);
    expect(await readlink(join(dir, 'mydovecot.crt'))).toBe(join(dir, '.certsmith/current/mydovecot.crt'));
    expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(A), matches: true });
    expect((await stat(join(dir, 'mydovecot.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'mydovecot.crt'))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(dir, 'mydovecot.crt'), 'utf8')).toBe(A.certificatePem + A.chainPem[0]);
    expect(await readFile(join(dir, 'dovecot-CN'), 'utf8')).toBe('host.example.test\n');
    expect(await readFile(join(dir, 'dovecot-DOMAINS'), 'utf8')).toBe('host.example.test\n');
    expect(await readFile(join(dir, 'dovecot-NOT_AFTER'), 'utf8')).toBe(`${new Date(A.summary.notAfter).getTime() / 1000}\n`);
    expect(await readdir(join(state, 'installs'))).toEqual([]);

    await installAndProve(installer, B);
    expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(B), matches: true });
    expect(await readFile(join(dir, 'dovecot-DOMAINS'), 'utf8')).toBe('host.example.test\nmail.example.test\n');
    await installAndProve(installer, A);
    const generations = (await readdir(join(dir, '.certsmith'))).filter((e) => e.startsWith('gen-'));
    expect(generations).toHaveLength(2); // the current one and the one before, for a rollback
  });

  it('reads the mode of its key files, and narrows one in place (only its own key files)', async () => {
    const { installer, dir } = await sandbox();
    await installAndProve(installer, A);
    const key = join(dir, 'mydovecot.key');
    await chmod(key, 0o644);
    const material = await installer.read(TARGET);
    expect(material.sources.find((s) => s.role === 'key')).toMatchObject({ path: key, mode: 0o644 });
    expect(material.sources.find((s) => s.role === 'certificate')).not.toHaveProperty('mode');
    await installer.restrictMode(key, 0o600);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    expect(await pairIn(join(dir, 'mydovecot.crt'), key)).toEqual({ fingerprint: fingerprintOf(A), matches: true });
    await expect(installer.restrictMode(join(dir, 'mydovecot.crt'), 0o600)).rejects.toThrow(/is not one of its key files/);
    await expect(installer.restrictMode('/etc/passwd', 0o600)).rejects.toThrow(/is not one of its key files/);
  });

  it('adopts files that are already there without changing what they hold', async () => {
    const { installer, dir } = await sandbox();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'dovecot.crt'), C.certificatePem, { mode: 0o644 });
    await writeFile(join(dir, 'dovecot.key'), C.keyPem, { mode: 0o600 });
    const before = await installer.read(TARGET);
    expect(before.sources.map((s) => s.path)).toEqual([join(dir, 'dovecot.crt'), join(dir, 'dovecot.key')]);
    await installAndProve(installer, A);
    // The self-signed pair stays beside the CA-signed one, as cPanel keeps it.
    expect(await pairIn(join(dir, 'dovecot.crt'), join(dir, 'dovecot.key'))).toEqual({ fingerprint: fingerprintOf(C), matches: true });
    expect((await lstat(join(dir, 'dovecot.crt'))).isSymbolicLink()).toBe(true);
    expect((await installer.read(TARGET)).sources.map((s) => s.path)).toEqual([join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key')]);
  });

  it('a self-signed install displaces the CA-signed files, which would otherwise keep precedence', async () => {
    const { installer, dir } = await sandbox();
    await installAndProve(installer, A);
    await installAndProve(installer, C);
    await expect(stat(join(dir, 'mydovecot.crt'))).rejects.toThrow(/ENOENT/);
    const read = await installer.read(TARGET);
    expect(read.sources.map((s) => s.path)).toEqual([join(dir, 'dovecot.crt'), join(dir, 'dovecot.key')]);
    expect(await pairIn(join(dir, 'dovecot.crt'), join(dir, 'dovecot.key'))).toEqual({ fingerprint: fingerprintOf(C), matches: true });
  });

  it('refuses, before writing anything, a key that does not match, a chain that does not link, names that do not cover', async () => {
    const { installer, dir, state } = await sandbox();
    const wrongKey = { ...A, keyPem: B.keyPem };
    await expect(installer.install(TARGET, wrongKey, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: 'INSTALL_REFUSED',
      message: expect.stringContaining('the private key does not belong to the certificate'),
    });
    const brokenChain = { ...A, chainPem: [C.certificatePem] };
    await expect(installer.install(TARGET, brokenChain, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: 'INSTALL_REFUSED',
      message: expect.stringContaining('did not sign the certificate'),
    });
    const other: Target = { ...TARGET, names: ['other.example.test'] };
    await expect(installer.install(other, A, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: 'INSTALL_REFUSED',
      message: expect.stringContaining('do not cover other.example.test'),
    });
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    await expect(stat(state)).rejects.toThrow(/ENOENT/);
  });

  it('a dry run names the files and the reload and writes nothing', async () => {
    const { installer, dir } = await sandbox({ reload: ['/bin/false'] });
    const receipt = await installer.install(TARGET, A, { dryRun: true, signal: AbortSignal.timeout(5_000) });
    expect(receipt).toMatchObject({ dryRun: true, reloaded: true, files: expect.arrayContaining([join(dir, 'mydovecot.key')]) });
    expect(installer.plan(A).reload).toEqual(['/bin/false']);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  });

  it('a reload that fails puts the previous pair back and says which command failed', async () => {
    const { installer, dir, options } = await sandbox();
    await installAndProve(installer, A);
    const generations = await readdir(join(dir, '.certsmith'));
    const failing = new FileInstaller({ ...options, reload: ['sh', '-c', 'echo "unit dovecot not found" >&2; exit 3'] });
    await expect(failing.install(TARGET, B, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: 'RELOAD_FAILED',
      message: expect.stringMatching(
        /reload command "sh -c .*" failed \(exit 3\): unit dovecot not found; the previous files are back in place, but reloading them failed too/,
      ),
    });
    expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(A), matches: true });
    expect(await readdir(join(dir, '.certsmith'))).toEqual(generations); // the new generation is gone
  });

  it('a reload that hangs (a shell whose child hangs) is killed at the timeout, and the previous pair stays', async () => {
    const { installer, dir, options } = await sandbox();
    await installAndProve(installer, A);
    const hanging = new FileInstaller({ ...options, reload: ['sh', '-c', 'sleep 60 & wait'], reloadTimeoutMs: 300 });
    const started = process.hrtime.bigint();
    await expect(hanging.install(TARGET, B, { dryRun: false, signal: AbortSignal.timeout(20_000) })).rejects.toMatchObject({
      code: 'RELOAD_FAILED',
      message: expect.stringContaining('did not finish within 300 ms (killed)'),
    });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(15_000); // bounded, not the 60 s of the hang
    expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(A), matches: true });
  });

  it('a failed live proof is rolled back and the rollback is proved live', async () => {
    let served = '';
    const observe = async () => [{ endpoint: '127.0.0.9:993', ok: true, fingerprint: served }];
    const { installer, dir, options } = await sandbox({ endpoints: [{ host: '127.0.0.9', port: 993, starttls: null }], observe, proofTimeoutMs: 500 });
    served = fingerprintOf(A);
    expect((await installAndProve(installer, A)).proof.ok).toBe(true);
    const receipt = await installer.install(TARGET, B, { dryRun: false, signal: AbortSignal.timeout(5_000) });
    const proof = await installer.prove(receipt, AbortSignal.timeout(5_000)); // the server still serves A
    expect(proof).toMatchObject({ ok: false, reason: '127.0.0.9:993: serves another certificate' });
    await installer.rollback(receipt);
    expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(A), matches: true });
    served = 'something else';
    const again = await installer.install(TARGET, B, { dryRun: false, signal: AbortSignal.timeout(5_000) });
    await expect(new FileInstaller({ ...options, observe }).rollback(again)).rejects.toMatchObject({ code: 'ROLLBACK_NOT_LIVE' });
  });

  it('a first install rolled back (reload failed, or the proof failed) leaves no link, no store and no directory behind', async () => {
    const failing = await sandbox({ reload: ['/bin/false'] });
    await expect(failing.installer.install(TARGET, A, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({ code: 'RELOAD_FAILED' });
    await expect(lstat(failing.dir)).rejects.toThrow(/ENOENT/);

    const observe = async () => [{ endpoint: '127.0.0.9:993', ok: true, fingerprint: 'another certificate' }];
    const { installer, dir } = await sandbox({ endpoints: [{ host: '127.0.0.9', port: 993, starttls: null }], observe, proofTimeoutMs: 300 });
    await mkdir(dir);
    await writeFile(join(dir, 'unrelated.txt'), 'kept\n');
    const receipt = await installer.install(TARGET, A, { dryRun: false, signal: AbortSignal.timeout(5_000) });
    expect((await installer.prove(receipt, AbortSignal.timeout(5_000))).ok).toBe(false);
    await installer.rollback(receipt);
    // The directory was there before: it stays, with only what was in it.
    expect(await readdir(dir)).toEqual(['unrelated.txt']);
  });

  it("the next run (holding the target's lock) undoes an install that was interrupted after the switch, and says so", async () => {
    const { installer, dir, state, options } = await sandbox();
    await installAndProve(installer, A);
    await installer.install(TARGET, B, { dryRun: false, signal: AbortSignal.timeout(5_000) }); // "killed" before the proof
    expect(JSON.parse(await readFile(join(state, 'installs/dovecot.json'), 'utf8'))).toMatchObject({ step: 'switched' });
    const bus = createBus();
    const failed: FailedEvent[] = [];
    bus.on('failed', (e) => failed.push(e));
    const next = new FileInstaller({ ...options, bus });
    // Without the target's lock (a dry run, or the pipeline's lock-free first look) nothing is written: the read says
    // an install was interrupted, so that the pipeline takes the lock and reads again under it.
    expect((await next.read(TARGET)).interrupted).toBe(true);
    expect((await next.read(TARGET, { locked: false })).interrupted).toBe(true);
    expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(B), matches: true });
    expect((await next.read(TARGET, { locked: true })).interrupted).toBeUndefined();
    expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(A), matches: true });
    expect(failed).toEqual([
      expect.objectContaining({
        code: 'INSTALL_INTERRUPTED',
        severity: 'warning',
        message: expect.stringContaining('after step "switched"; the previous certificate was put back'),
      }),
    ]);
    await expect(stat(join(state, 'installs/dovecot.json'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a service directory that is a symlink, and a file symlink it did not make', async () => {
    const { installer, dir } = await sandbox();
    const elsewhere = join(dir, '..', '..', 'elsewhere');
    await mkdir(elsewhere);
    await symlink(elsewhere, dir);
    await expect(installer.install(TARGET, A, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: 'INSTALL_DIR_INVALID',
      message: expect.stringContaining(`is a symlink to ${elsewhere}`),
    });
    expect(await readdir(elsewhere)).toEqual([]);

    const second = await sandbox();
    await mkdir(second.dir, { recursive: true });
    await symlink('/etc/passwd', join(second.dir, 'mydovecot.key'));
    await expect(second.installer.install(TARGET, A, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: 'INSTALL_UNEXPECTED_SYMLINK',
      message: expect.stringContaining('is a symlink to /etc/passwd'),
    });
    expect(await readdir(second.dir)).toEqual(['mydovecot.key']);
  });

  it('refuses a missing directory outside the SSL directory (a link target), changing nothing', async () => {
    const { installer, dir } = await sandbox();
    const missing = join(dir, '..', 'no-such-dir', 'dovecot.crt');
    const withLink = new FileInstaller({
      service: 'dovecot',
      layout: { ...pairLayout('dovecot')(dir), links: [{ path: missing, role: 'certificate', content: 'cert+chain', mode: 0o644 }] },
      endpoints: [],
      reload: null,
      reloadTimeoutMs: 1_000,
      stateDir: join(dir, '..', 'state'),
    });
    await expect(withLink.install(TARGET, A, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
      code: 'INSTALL_DIR_INVALID',
      message: expect.stringContaining('no-such-dir does not exist'),
    });
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    void installer;
  });

  it("writes links (cPanel's /etc/exim.crt kind) as part of the same generation", async () => {
    const { dir, state } = await sandbox();
    const etc = join(dir, '..', 'etc');
    await mkdir(etc);
    const installer = new FileInstaller({
      service: 'exim',
      layout: {
        ...pairLayout('exim')(dir),
        links: [
          { path: join(etc, 'exim.crt'), role: 'certificate', content: 'cert+chain', mode: 0o644 },
          { path: join(etc, 'exim.key'), role: 'key', content: 'key', mode: 0o600 },
        ],
      },
      endpoints: [],
      reload: null,
      reloadTimeoutMs: 1_000,
      stateDir: state,
    });
    await installAndProve(installer, A);
    await installAndProve(installer, C);
    expect(await pairIn(join(etc, 'exim.crt'), join(etc, 'exim.key'))).toEqual({ fingerprint: fingerprintOf(C), matches: true });
    expect(await readlink(join(etc, 'exim.key'))).toBe(join(dir, '.certsmith/current', `@${join(etc, 'exim.key').slice(1).replace(/\//g, '@')}`));
  });
});

describe('FileInstaller on a full or read-only file system (tmpfs, root only)', () => {
  it('a disk-full write and a read-only directory each fail clearly and leave the old pair', async () => {
    const { installer, dir, options } = await sandbox();
    await mkdir(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    try {
      await installAndProve(installer, A);
      // Fill what is left, then ask for a new pair.
      await writeFile(join(dir, 'filler'), Buffer.alloc(256 * 1024)).catch(() => undefined);
      await expect(new FileInstaller(options).install(TARGET, B, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
        code: 'INSTALL_DISK_FULL',
        message: expect.stringContaining('no space left on the device'),
      });
      expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(A), matches: true });
      await rm(join(dir, 'filler'));
      execFileSync('mount', ['-o', 'remount,ro', dir]);
      await expect(new FileInstaller(options).install(TARGET, B, { dryRun: false, signal: AbortSignal.timeout(5_000) })).rejects.toMatchObject({
        code: 'INSTALL_READ_ONLY',
        message: expect.stringContaining('read-only'),
      });
      expect(await pairIn(join(dir, 'mydovecot.crt'), join(dir, 'mydovecot.key'))).toEqual({ fingerprint: fingerprintOf(A), matches: true });
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});
