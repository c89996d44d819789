// Service installers end to end: the built CLI installs into Dovecot, Exim, Pure-FTPd and nginx running on a
// loopback address, and the result is read back over TLS; failed reloads and proofs roll back; bad input is
// refused; a fault-injection run kills the CLI at every install step and checks that no pair is ever mixed.
import { spawn } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey, randomInt } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, readdir, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_STEPS } from '@certsmith/install';
import {
  CLI_UNDER_TEST_PATH,
  createCa,
  labDir,
  mustRun,
  randomLoopback,
  runCli,
  startDovecot,
  startExim,
  startNginx,
  startPureFtpd,
  type Dovecot,
  type Exim,
  type LabCa,
  type LabCert,
  type Nginx,
  type PureFtpd,
  type RunResult,
} from '@certsmith/testlab';
import { TlsLiveProbe } from '@certsmith/x509';

const HOST = 'host.example.test';
/** Two years ahead: every certificate the lab or an earlier run made has expired by then. */
const LATER = new Date(Date.now() + 2 * 365 * 86_400_000).toISOString();
const probe = new TlsLiveProbe({ timeoutMs: 5_000 });

let lab: { path: string; cleanup: () => Promise<void> };
let ca: LabCa;
let seed: LabCert;
let other: LabCert;
let address: string;
let ssl: string;
let vhosts: string;
let dovecot: Dovecot;
let exim: Exim;
let ftp: PureFtpd;
let nginx: Nginx;
let eximGid: number;

/** The leaf a server presents at an endpoint. */
async function served(port: number, starttls: 'smtp' | 'imap' | 'pop3' | 'ftp' | null, servername = HOST): Promise<string> {
  const [seen] = await probe.observe([{ host: address, port, starttls, servername }], AbortSignal.timeout(10_000));
  if (!seen?.ok || !seen.fingerprint) throw new Error(`no handshake with ${address}:${port}: ${seen?.error}`);
  return seen.fingerprint;
}

/** SHA-256 of the first certificate in a PEM text (a combined file may start with the key). */
function fingerprintOfPem(pem: string): string {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)![0];
  return createHash('sha256').update(new X509Certificate(block).raw).digest('hex');
}

/** The certificate in a file (the first one) and whether the key (in `keyFile`, or the same file) belongs to it. */
async function pair(certFile: string, keyFile = certFile): Promise<{ fingerprint: string; matches: boolean }> {
  const text = await readFile(certFile, 'utf8');
  const cert = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)![0]);
  const key = createPrivateKey(
    /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:EC |RSA )?PRIVATE KEY-----/.exec(await readFile(keyFile, 'utf8'))![0],
  );
  return { fingerprint: createHash('sha256').update(cert.raw).digest('hex'), matches: cert.checkPrivateKey(key) };
}

/** A root hints file naming a loopback address where nothing answers: the run must ask no real root server. */
async function deadRootHints(dir: string): Promise<Record<string, unknown>> {
  const file = join(dir, 'root.hints');
  await writeFile(file, `.  3600000  NS  a.root.\na.root.  3600000  A  ${randomLoopback()}\n`);
  return { rootHints: file, port: randomInt(20_000, 60_000), timeoutMs: 200, retries: 0 };
}

async function writeConfig(dir: string, services: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, `config-${randomInt(1e9)}.json`);
  await writeFile(
    file,
    JSON.stringify(
      {
        profile: 'full',
        hostname: HOST,
        paths: { stateDir: join(dir, 'state'), sslDir: ssl },
        plugins: ['@certsmith/installer-web'],
        services: { cpanel: false, dovecot: false, exim: false, ftp: false, ...services },
        dns: await deadRootHints(dir),
        ...extra,
      },
      null,
      2,
    ),
  );
  return file;
}

const dovecotService = () => ({
  endpoints: [
    { host: address, port: dovecot.ports.imaps },
    { host: address, port: dovecot.ports.imap, starttls: 'imap' },
  ],
  reload: dovecot.reloadCommand,
  proofTimeoutMs: 5_000,
});
const eximService = () => ({
  endpoints: [
    { host: address, port: exim.ports.smtp, starttls: 'smtp' },
    { host: address, port: exim.ports.smtps },
  ],
  // High ports: a HUP re-reads the files (on ports below 1024 Exim started with -C must be restarted: tools/testlab/README.md#exim).
  reload: ['sh', '-c', `kill -HUP "$(cat ${exim.dir}/exim.pid)"`],
  group: 'Debian-exim',
  proofTimeoutMs: 10_000,
});
const ftpService = () => ({
  endpoints: [{ host: address, port: ftp.port, starttls: 'ftp' }],
  reload: ftp.restartCommand,
  proofTimeoutMs: 5_000,
});
const webService = () => ({
  server: 'nginx',
  certFile: join(vhosts, 'host.crt'),
  keyFile: join(vhosts, 'host.key'),
  configFiles: [nginx.configFile],
  endpoints: [
    { host: address, port: nginx.tlsPort },
    { host: address, port: nginx.tlsPort, servername: 'www.example.test' },
  ],
  reload: nginx.reloadCommand,
  proofTimeoutMs: 5_000,
});

beforeAll(async () => {
  lab = await labDir('install-e2e');
  await chmod(lab.path, 0o755); // Exim reads its key as Debian-exim after a HUP: the path must be traversable
  address = randomLoopback();
  ca = await createCa(join(lab.path, 'ca'), { cn: 'certsmith install lab CA' });
  // Expired an hour ago: any issuer, the self-signed one included, replaces it (a still-valid CA certificate near
  // expiry would be kept: only a CA may replace it).
  seed = await ca.issue('seed', { cn: HOST, notBefore: new Date(Date.now() - 2 * 86_400_000), notAfter: new Date(Date.now() - 3_600_000) });
  other = await ca.issue('other', { cn: 'other.example.test', days: 30 });
  eximGid = Number((await mustRun('id', ['-g', 'Debian-exim'])).trim());
  ssl = join(lab.path, 'ssl');
  vhosts = join(lab.path, 'vhosts');
  // The certificates the servers start with: the seed (expired: replaced), in the files of the self-signed set,
  // which is where the selfsigned issuer's certificate goes.
  for (const d of ['dovecot', 'exim', 'ftp']) await mkdir(join(ssl, d), { recursive: true });
  await mkdir(vhosts);
  await writeFile(join(ssl, 'dovecot/dovecot.crt'), seed.certPem);
  await writeFile(join(ssl, 'dovecot/dovecot.key'), seed.keyPem, { mode: 0o600 });
  await writeFile(join(ssl, 'exim/exim.crt'), seed.certPem);
  await writeFile(join(ssl, 'exim/exim.key'), seed.keyPem, { mode: 0o640 });
  await chown(join(ssl, 'exim/exim.key'), 0, eximGid);
  await writeFile(join(ssl, 'ftp/pure-ftpd.pem'), seed.keyPem + seed.certPem, { mode: 0o600 });
  for (const [name, cert] of [
    ['host', seed],
    ['shared', seed],
    ['other', other],
  ] as const) {
    await writeFile(join(vhosts, `${name}.crt`), cert.certPem);
    await writeFile(join(vhosts, `${name}.key`), cert.keyPem, { mode: 0o600 });
  }
  [dovecot, exim, ftp, nginx] = await Promise.all([
    startDovecot({ address, certFile: join(ssl, 'dovecot/dovecot.crt'), keyFile: join(ssl, 'dovecot/dovecot.key') }),
    startExim({ address, certPem: seed.certPem, keyPem: seed.keyPem }),
    startPureFtpd({ address, certFile: join(ssl, 'ftp/pure-ftpd.pem') }),
    startNginx({
      address,
      sites: [
        { serverNames: [HOST], docroot: join(lab.path, 'www-host'), tls: { certFile: join(vhosts, 'host.crt'), keyFile: join(vhosts, 'host.key') } },
        {
          serverNames: ['www.example.test'],
          docroot: join(lab.path, 'www-shared'),
          tls: { certFile: join(vhosts, 'shared.crt'), keyFile: join(vhosts, 'shared.key') },
        },
        {
          serverNames: ['other.example.test'],
          docroot: join(lab.path, 'www-other'),
          tls: { certFile: join(vhosts, 'other.crt'), keyFile: join(vhosts, 'other.key') },
        },
      ],
    }),
  ]);
  // Exim reads the files of the service directory (its own copies become links to them).
  await unlink(exim.certFile);
  await unlink(exim.keyFile);
  await symlink(join(ssl, 'exim/exim.crt'), exim.certFile);
  await symlink(join(ssl, 'exim/exim.key'), exim.keyFile);
}, 120_000);

afterAll(async () => {
  await Promise.all([dovecot?.stop(), exim?.stop(), ftp?.stop(), nginx?.stop()]);
  await lab?.cleanup();
});

describe('installing into running servers through the CLI', () => {
  it('installs one new certificate for Dovecot, Exim, Pure-FTPd and nginx and each serves it over TLS', async () => {
    const old = fingerprintOfPem(seed.certPem);
    expect(await served(dovecot.ports.imaps, null)).toBe(old);
    expect(await served(exim.ports.smtp, 'smtp')).toBe(old);
    expect(await served(ftp.port, 'ftp')).toBe(old);
    expect(await served(nginx.tlsPort, null, 'www.example.test')).toBe(old);
    const config = await writeConfig(lab.path, { dovecot: dovecotService(), exim: eximService(), ftp: ftpService(), web: webService() });
    const result = await runCli(['check', '--config', config]);
    expect(result.stdout, `${result.stderr}\n${await exim.log()}`).toContain('Done.');
    expect(result.code).toBe(0);
    for (const service of ['dovecot', 'exim', 'ftp', 'web'])
      expect(result.stdout).toMatch(new RegExp(`Installed for ${service}: .*\\(service reloaded\\), live on `));

    const installed = await pair(join(ssl, 'dovecot/dovecot.crt'), join(ssl, 'dovecot/dovecot.key'));
    expect(installed.matches).toBe(true);
    expect(installed.fingerprint).not.toBe(old);
    // Read back over TLS from each running server: implicit TLS and every STARTTLS flavour.
    expect(await served(dovecot.ports.imaps, null)).toBe(installed.fingerprint);
    expect(await served(dovecot.ports.imap, 'imap')).toBe(installed.fingerprint);
    expect(await served(dovecot.ports.pop3, 'pop3')).toBe(installed.fingerprint);
    expect(await served(exim.ports.smtp, 'smtp')).toBe(installed.fingerprint);
    expect(await served(exim.ports.smtps, null)).toBe(installed.fingerprint);
    expect(await served(ftp.port, 'ftp')).toBe(installed.fingerprint);
    expect(await served(nginx.tlsPort, null, HOST)).toBe(installed.fingerprint);
    // The vhost that shared the old hostname certificate got the new one; the one with its own did not.
    expect(await served(nginx.tlsPort, null, 'www.example.test')).toBe(installed.fingerprint);
    expect(await served(nginx.tlsPort, null, 'other.example.test')).toBe(fingerprintOfPem(other.certPem));

    // Files: the right pair everywhere, keys 0600 or 0640 to the service's group, metadata beside them.
    expect(await pair(join(ssl, 'exim/exim.crt'), join(ssl, 'exim/exim.key'))).toEqual(installed);
    expect(await pair(join(ssl, 'ftp/pure-ftpd.pem'))).toEqual(installed);
    expect(await pair(join(vhosts, 'shared.crt'), join(vhosts, 'shared.key'))).toEqual(installed);
    const eximKey = await stat(join(ssl, 'exim/exim.key'));
    expect([eximKey.mode & 0o777, eximKey.gid]).toEqual([0o640, eximGid]);
    expect((await stat(join(ssl, 'dovecot/dovecot.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(ssl, 'ftp/pure-ftpd.pem'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(ssl, 'exim/exim-CN'), 'utf8')).toBe(`${HOST}\n`);
    expect(await readFile(join(ssl, 'dovecot/dovecot-DOMAINS'), 'utf8')).toBe(`${HOST}\n`);
    expect(Number(await readFile(join(ssl, 'ftp/ftp-NOT_AFTER'), 'utf8'))).toBeGreaterThan(Date.now() / 1000 + 300 * 86_400);
    expect(await readdir(join(lab.path, 'state/installs'))).toEqual([]); // every journal closed

    // A second run finds every service healthy and installs nothing.
    const again = await runCli(['check', '--config', config]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).not.toContain('Installed for');
  }, 120_000);

  it('a reload that does not make the server serve the new certificate is rolled back, proved over TLS', async () => {
    const before = await served(dovecot.ports.imaps, null);
    const files = await pair(join(ssl, 'dovecot/dovecot.crt'), join(ssl, 'dovecot/dovecot.key'));
    const config = await writeConfig(lab.path, { dovecot: { ...dovecotService(), reload: ['/bin/true'], proofTimeoutMs: 1_500 } });
    const result = await runCli(['check', '--config', config], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stdout).toMatch(
      /Error \(install, service dovecot\): INSTALL_NOT_LIVE: the new certificate is not served after reload \(.*serves another certificate.*\) → rolled back to the previous certificate/,
    );
    expect(await pair(join(ssl, 'dovecot/dovecot.crt'), join(ssl, 'dovecot/dovecot.key'))).toEqual(files);
    expect(await served(dovecot.ports.imaps, null)).toBe(before);
    expect(await served(dovecot.ports.imap, 'imap')).toBe(before);
  }, 60_000);

  it('a reload command that fails leaves the previous files and the previous certificate served', async () => {
    const before = await served(exim.ports.smtp, 'smtp');
    const files = await pair(join(ssl, 'exim/exim.crt'), join(ssl, 'exim/exim.key'));
    const config = await writeConfig(lab.path, { exim: { ...eximService(), reload: ['sh', '-c', 'echo "exim: restart refused" >&2; exit 4'] } });
    const result = await runCli(['check', '--config', config], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stdout).toMatch(
      /Error \(install, service exim\): RELOAD_FAILED: exim: reload command "sh -c .*" failed \(exit 4\): exim: restart refused; the previous files are back in place/,
    );
    expect(await pair(join(ssl, 'exim/exim.crt'), join(ssl, 'exim/exim.key'))).toEqual(files);
    expect(await served(exim.ports.smtp, 'smtp')).toBe(before);
  }, 60_000);

  it('a reload command that hangs is killed at its timeout; the previous certificate keeps being served', async () => {
    const before = await served(ftp.port, 'ftp');
    const files = await pair(join(ssl, 'ftp/pure-ftpd.pem'));
    const config = await writeConfig(lab.path, { ftp: { ...ftpService(), reload: ['sleep', '120'], reloadTimeoutMs: 500 } });
    const result = await runCli(['check', '--config', config], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stdout).toContain('RELOAD_FAILED: ftp: reload command "sleep 120" did not finish within 500 ms (killed)');
    expect(await pair(join(ssl, 'ftp/pure-ftpd.pem'))).toEqual(files);
    expect(await served(ftp.port, 'ftp')).toBe(before);
  }, 60_000);

  it('a certificate whose key does not match is refused before anything is written', async () => {
    const plugin = join(lab.path, 'mismatch-issuer.mjs');
    // A third-party issuer that returns the lab's certificate for HOST whatever key the CSR had.
    await writeFile(
      plugin,
      `export const manifest = { name: 'mismatch-issuer', apiVersion: 1, setup({ contribute }) {
  contribute.issuer({ id: 'mismatch', trusted: false, precheck: 'none', issuerPatterns: [],
    async issue() { return { status: 'issued', certificatePem: ${JSON.stringify(seed.certPem)}, chainPem: [] }; },
    async resume() { throw new Error('no'); } });
} };\n`,
    );
    const files = await pair(join(ssl, 'dovecot/dovecot.crt'), join(ssl, 'dovecot/dovecot.key'));
    const before = await served(dovecot.ports.imaps, null);
    const listing = await readdir(join(ssl, 'dovecot/.certsmith'));
    const config = await writeConfig(lab.path, { dovecot: dovecotService() }, { plugins: ['@certsmith/installer-web', plugin], issuers: ['mismatch'] });
    const result = await runCli(['check', '--config', config], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stdout).toMatch(/ISSUED_MISMATCH: refused the certificate from "mismatch": .*key/i);
    expect(result.stdout).not.toContain('Installed for');
    expect(await readdir(join(ssl, 'dovecot/.certsmith'))).toEqual(listing);
    expect(await pair(join(ssl, 'dovecot/dovecot.crt'), join(ssl, 'dovecot/dovecot.key'))).toEqual(files);
    expect(await served(dovecot.ports.imaps, null)).toBe(before);
  }, 60_000);
});

describe('bad service directories through the CLI', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await labDir('install-bad');
  });
  afterAll(async () => {
    await dir?.cleanup();
  });

  async function sandbox(name: string): Promise<{ config: string; sslDir: string }> {
    const base = join(dir.path, name);
    const sslDir = join(base, 'ssl');
    await mkdir(sslDir, { recursive: true });
    const file = join(base, 'config.json');
    await writeFile(
      file,
      JSON.stringify({
        hostname: HOST,
        paths: { stateDir: join(base, 'state'), sslDir },
        services: { cpanel: false, exim: false, ftp: false, dovecot: { reload: ['/bin/true'] } },
        inspection: { live: false },
      }),
    );
    return { config: file, sslDir };
  }

  async function seedDovecot(d: string): Promise<void> {
    await writeFile(join(d, 'dovecot.crt'), seed.certPem);
    await writeFile(join(d, 'dovecot.key'), seed.keyPem, { mode: 0o600 });
  }

  it('a service directory that is a symlink to somewhere else: a clear error, nothing written there', async () => {
    const { config, sslDir } = await sandbox('symlinked');
    const elsewhere = join(dir.path, 'symlinked', 'elsewhere');
    await mkdir(elsewhere);
    await seedDovecot(elsewhere);
    await symlink(elsewhere, join(sslDir, 'dovecot'));
    const result = await runCli(['check', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `INSTALL_DIR_INVALID: dovecot: the directory ${join(sslDir, 'dovecot')} is a symlink to ${elsewhere}; certsmith writes only into real directories`,
    );
    expect((await readdir(elsewhere)).sort()).toEqual(['dovecot.crt', 'dovecot.key']);
    expect(await readFile(join(elsewhere, 'dovecot.crt'), 'utf8')).toBe(seed.certPem);
  });

  it('a full disk and a read-only directory (tmpfs): clear errors, the old pair intact', async () => {
    const { config, sslDir } = await sandbox('tmpfs');
    const d = join(sslDir, 'dovecot');
    await mkdir(d);
    await mustRun('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]);
    try {
      await seedDovecot(d);
      await writeFile(join(d, 'filler'), Buffer.alloc(256 * 1024)).catch(() => undefined); // fills what is left
      const full = await runCli(['check', '--config', config]);
      expect(full.code).toBe(1);
      expect(full.stdout).toMatch(
        /INSTALL_DISK_FULL: dovecot: could not write the new certificate: no space left on the device \(.*dovecot.(crt|key)\); nothing was changed/,
      );
      expect(await pair(join(d, 'dovecot.crt'), join(d, 'dovecot.key'))).toEqual({ fingerprint: fingerprintOfPem(seed.certPem), matches: true });

      await rm(join(d, 'filler'));
      await mustRun('mount', ['-o', 'remount,ro', d]);
      const readOnly = await runCli(['check', '--config', config]);
      expect(readOnly.code).toBe(1);
      expect(readOnly.stdout).toMatch(/INSTALL_READ_ONLY: dovecot: .*the file system is read-only/);
      expect(await pair(join(d, 'dovecot.crt'), join(d, 'dovecot.key'))).toEqual({ fingerprint: fingerprintOfPem(seed.certPem), matches: true });
    } finally {
      await mustRun('umount', [d]);
    }
  });
});

describe('crash safety: the CLI killed (SIGKILL) at every install step', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await labDir('install-crash');
  });
  afterAll(async () => {
    await dir?.cleanup();
  });

  /** Each service's active pair, as the service would read it. */
  const PAIRS: Record<string, (ssl: string, vh: string) => [string, string][]> = {
    cpanel: (s) => [[join(s, 'cpanel/cpanel.pem'), join(s, 'cpanel/cpanel.pem')]],
    dovecot: (s) => [[join(s, 'dovecot/dovecot.crt'), join(s, 'dovecot/dovecot.key')]],
    exim: (s) => [[join(s, 'exim/exim.crt'), join(s, 'exim/exim.key')]],
    ftp: (s) => [[join(s, 'ftp/pure-ftpd.pem'), join(s, 'ftp/pure-ftpd.pem')]],
    web: (_s, v) => [
      [join(v, 'host.crt'), join(v, 'host.key')],
      [join(v, 'shared.crt'), join(v, 'shared.key')],
    ],
  };

  async function sandbox(name: string): Promise<{ config: string; sslDir: string; vh: string; state: string }> {
    const base = join(dir.path, name);
    const sslDir = join(base, 'ssl');
    const vh = join(base, 'vhosts');
    for (const d of ['cpanel', 'dovecot', 'exim', 'ftp']) await mkdir(join(sslDir, d), { recursive: true });
    await mkdir(vh);
    await writeFile(join(sslDir, 'cpanel/cpanel.pem'), seed.keyPem + seed.certPem, { mode: 0o600 });
    for (const d of ['dovecot', 'exim']) {
      await writeFile(join(sslDir, `${d}/${d}.crt`), seed.certPem);
      await writeFile(join(sslDir, `${d}/${d}.key`), seed.keyPem, { mode: 0o600 });
    }
    await writeFile(join(sslDir, 'ftp/pure-ftpd.pem'), seed.keyPem + seed.certPem, { mode: 0o600 });
    for (const n of ['host', 'shared']) {
      await writeFile(join(vh, `${n}.crt`), seed.certPem);
      await writeFile(join(vh, `${n}.key`), seed.keyPem, { mode: 0o600 });
    }
    const nginxConf = join(base, 'nginx.conf');
    await writeFile(nginxConf, ['host', 'shared'].map((n) => `server { ssl_certificate ${vh}/${n}.crt; ssl_certificate_key ${vh}/${n}.key; }\n`).join(''));
    const state = join(base, 'state');
    const config = join(base, 'config.json');
    const reload = { reload: ['/bin/true'] };
    await writeFile(
      config,
      JSON.stringify({
        hostname: HOST,
        paths: { stateDir: state, sslDir },
        plugins: ['@certsmith/installer-web'],
        inspection: { live: false },
        services: {
          cpanel: reload,
          dovecot: reload,
          exim: reload,
          ftp: reload,
          web: { ...reload, certFile: join(vh, 'host.crt'), keyFile: join(vh, 'host.key'), configFiles: [nginxConf] },
        },
      }),
    );
    return { config, sslDir, vh, state };
  }

  /** Runs the CLI; resolves with how it ended (a kill point ends it with SIGKILL). */
  function runUntilKilled(config: string, killAt: string): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI_UNDER_TEST_PATH, 'check', '--config', config], {
        env: { ...process.env, CERTSMITH_FAKE_NOW: LATER, CERTSMITH_FAULT_KILL_AT: killAt },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  async function mismatches(sslDir: string, vh: string): Promise<string[]> {
    const bad: string[] = [];
    const fingerprints = new Set<string>();
    for (const [service, pairsOf] of Object.entries(PAIRS)) {
      for (const [cert, key] of pairsOf(sslDir, vh)) {
        const seen = await pair(cert, key).catch((e: Error) => ({ fingerprint: `unreadable: ${e.message}`, matches: false }));
        if (!seen.matches) bad.push(`${service}: ${cert} / ${key}: ${seen.fingerprint}`);
        if (service === 'web') fingerprints.add(seen.fingerprint);
      }
    }
    if (fingerprints.size > 1) bad.push('web: the hostname vhost and the vhost that shares its certificate differ');
    return bad;
  }

  /** The files each service has before its first install, in the order they are taken over. */
  const FILES: Record<string, string[]> = {
    cpanel: ['cpanel.pem'],
    dovecot: ['dovecot.crt', 'dovecot.key'],
    exim: ['exim.crt', 'exim.key'],
    ftp: ['pure-ftpd.pem'],
    web: ['host.crt', 'host.key', 'shared.crt', 'shared.key'],
  };

  it('leaves every service with a matching pair after each kill, and the next run finishes the job', async () => {
    // Per service, one sandbox and one run per kill point: each run first undoes what the previous killed run left
    // (that is "the next run"), then is killed at its own point; a last run without a kill must finish the job.
    // The take-over of the existing files happens once, so its points come first: after the first file is linked,
    // after the generation of the rest is made, after each further file.
    const rows: { point: string; killed: boolean; mismatches: number }[] = [];
    const problems: string[] = [];
    const queue = Object.keys(PAIRS);
    const worker = async () => {
      for (let service = queue.shift(); service; service = queue.shift()) {
        const [first, ...rest] = FILES[service]!;
        // (A one-file service has nothing left to take over after its file is linked: its generation comes first.)
        const adoption = rest.length ? [`adopt:${first}`, 'adopt-generation', ...rest.map((f) => `adopt:${f}`)] : ['adopt-generation', `adopt:${first}`];
        const points = [...adoption, ...INSTALL_STEPS].map((step) => `${service}:${step}`);
        const box = await sandbox(service);
        for (const point of points) {
          const killed = await runUntilKilled(box.config, point);
          const bad = await mismatches(box.sslDir, box.vh);
          problems.push(...bad.map((m) => `${point}: ${m}`));
          if (killed.signal !== 'SIGKILL') problems.push(`${point}: not reached (the run ended with ${killed.code}):\n${killed.stdout}${killed.stderr}`);
          rows.push({ point, killed: killed.signal === 'SIGKILL', mismatches: bad.length });
        }
        const next: RunResult = await runCli(['check', '--config', box.config], { env: { CERTSMITH_FAKE_NOW: LATER } });
        if (next.code !== 0) problems.push(`${service}: the run after the last kill exited ${next.code}:\n${next.stdout}`);
        problems.push(...(await mismatches(box.sslDir, box.vh)).map((m) => `${service} (after the last run): ${m}`));
        for (const [cert] of PAIRS[service]!(box.sslDir, box.vh)) {
          if (fingerprintOfPem(await readFile(cert, 'utf8')) === fingerprintOfPem(seed.certPem))
            problems.push(`${service}: ${cert} still holds the old certificate after the last run`);
        }
        if ((await readdir(join(box.state, 'installs')).catch(() => [])).length) problems.push(`${service}: a journal is left after the last run`);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    const tried = rows.filter((r) => r.killed).length;
    const found = rows.reduce((n, r) => n + r.mismatches, 0);
    process.stdout.write(
      `\nfault injection: ${tried} kill points tried, ${found} mismatches\n${rows.map((r) => `  ${r.point.padEnd(26)} ${r.killed ? 'killed' : 'NOT REACHED'}, mismatches ${r.mismatches}`).join('\n')}\n`,
    );
    expect(problems).toEqual([]);
    expect(tried).toBe(Object.values(FILES).reduce((n, f) => n + f.length + 1 + INSTALL_STEPS.length, 0));
  }, 600_000);
});

describe('--dry-run with services to replace', () => {
  it('writes nothing', async () => {
    const box = await labDir('install-dry');
    try {
      const sslDir = join(box.path, 'ssl');
      await mkdir(join(sslDir, 'dovecot'), { recursive: true });
      await writeFile(join(sslDir, 'dovecot/dovecot.crt'), seed.certPem);
      await writeFile(join(sslDir, 'dovecot/dovecot.key'), seed.keyPem, { mode: 0o600 });
      const config = join(box.path, 'config.json');
      await writeFile(
        config,
        JSON.stringify({
          hostname: HOST,
          paths: { stateDir: join(box.path, 'state'), sslDir },
          inspection: { live: false },
          services: { cpanel: false, exim: false, ftp: false, dovecot: { reload: ['/bin/false'] } },
        }),
      );
      const result = await runCli(['check', '--dry-run', '--config', config], { env: { CERTSMITH_FAKE_NOW: LATER } });
      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toContain('would issue a certificate for host.example.test');
      expect((await readdir(join(sslDir, 'dovecot'))).sort()).toEqual(['dovecot.crt', 'dovecot.key']);
      expect((await lstat(join(sslDir, 'dovecot/dovecot.crt'))).isFile()).toBe(true);
      await expect(stat(join(box.path, 'state'))).rejects.toThrow(/ENOENT/);
    } finally {
      await box.cleanup();
    }
  });
});
