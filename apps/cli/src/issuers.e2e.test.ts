// Issuers end to end: the built CLI orders from Debian's Pebble (EAB required) on the full profile. Names resolve
// through the lab's BIND (certsmith iterates from the lab root; Pebble's VA asks the primary), http-01 is served by
// Debian's nginx from the docroot the HTTP DCV plugin writes, the certificate lands in the sandbox layout and its
// chain is verified with `openssl verify` against Pebble's root. Retries go to the real at queue.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atJobsContaining,
  ensureAtd,
  fileTimes,
  removeAtJobsContaining,
  run,
  runCli,
  sleep,
  startAcmeLab,
  type AcmeLab,
  type Pebble,
} from '@certsmith/testlab';

const HOST = `iss-${randomBytes(3).toString('hex')}.example.test`;
const NAMES = [`www.${HOST}`, `mail.${HOST}`];

let lab: AcmeLab;

beforeAll(async () => {
  await ensureAtd();
  lab = await startAcmeLab({ name: 'issuers-e2e', webNames: [HOST, ...NAMES] });
}, 120_000);

afterAll(async () => {
  await removeAtJobsContaining(lab?.dir ?? 'never-matches');
  await lab?.stop();
});

interface Setup {
  name: string;
  pebble?: Pebble;
  issuer?: 'acme' | 'sectigo';
  options?: Record<string, unknown>;
  eabKey?: string;
  extraPlugins?: unknown[];
  issuers?: string[];
  stateDir?: string;
}

/** A config in its own sandbox (state and ssl dirs named after it); returns its path. */
async function config(setup: Setup): Promise<string> {
  const issuer = setup.issuer ?? 'acme';
  const access = await lab.acmeIssuerOptions(setup.name, { ca: setup.pebble, eab: { hmacKey: setup.eabKey } });
  return lab.writeConfig(setup.name, {
    profile: 'full',
    hostname: HOST,
    names: NAMES,
    paths: { stateDir: setup.stateDir ?? `./state-${setup.name}`, sslDir: `./ssl-${setup.name}` },
    plugins: [
      lab.httpDcvPlugin,
      {
        module: `@certsmith/issuer-${issuer}`,
        options: {
          ...access,
          ...(issuer === 'acme' ? { contact: ['hostmaster@example.test'], issuerPatterns: ['Pebble'] } : {}),
          ...setup.options,
        },
      },
      ...(setup.extraPlugins ?? []),
    ],
    issuers: setup.issuers ?? [issuer, 'selfsigned'],
  });
}

async function openssl(args: string[]): Promise<string> {
  const result = await run('openssl', args);
  expect(result.code, result.stderr + result.stdout).toBe(0);
  return result.stdout;
}

const challengeHits = () => lab.webHits('/.well-known/acme-challenge/');

describe('certsmith check with an ACME issuer (Pebble, EAB) on the full profile', { timeout: 120_000 }, () => {
  it("issues for the hostname and its extra names, installs in the sandbox, the chain verifies against Pebble's root; a second run does nothing", async () => {
    const file = await config({ name: 'main' });
    const orders = lab.pebble.orderCount();
    const hitsBefore = await challengeHits();
    const first = await runCli(['check', '--config', file]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(`Local HTTP DCV OK: ${HOST}`);
    expect(first.stdout).toMatch(/installed a certificate from "acme" for cpanel, dovecot, exim, ftp/);
    expect(first.code).toBe(0);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    // Pebble's VA fetched every name's token from nginx.
    expect((await challengeHits()) - hitsBefore).toBeGreaterThanOrEqual(3);

    const ssl = join(lab.dir, 'ssl-main');
    await writeFile(join(lab.dir, 'pebble-root.pem'), (await lab.pebble.management('/roots/0')).body);
    const text = await openssl(['x509', '-in', join(ssl, 'dovecot', 'mydovecot.crt'), '-noout', '-text']);
    expect(text).toContain([HOST, ...NAMES].map((n) => `DNS:${n}`).join(', '));
    expect(text).toMatch(/Issuer: CN ?= ?Pebble Intermediate CA/);
    const verified = await openssl([
      'verify',
      '-CAfile',
      join(lab.dir, 'pebble-root.pem'),
      '-untrusted',
      join(ssl, 'dovecot', 'mydovecot.crt'),
      join(ssl, 'dovecot', 'mydovecot.crt'),
    ]);
    expect(verified).toContain(': OK');
    const fromCert = await openssl(['x509', '-in', join(ssl, 'exim', 'myexim.crt'), '-noout', '-pubkey']);
    expect(await openssl(['pkey', '-in', join(ssl, 'exim', 'myexim.key'), '-pubout'])).toBe(fromCert);
    expect(
      await openssl([
        'verify',
        '-CAfile',
        join(lab.dir, 'pebble-root.pem'),
        '-untrusted',
        join(ssl, 'cpanel', 'mycpanel.cabundle'),
        join(ssl, 'cpanel', 'mycpanel.pem'),
      ]),
    ).toContain(': OK');
    // The account key and nothing pending in the state directory; secrets 0600; the docroot is clean again.
    const account = join(lab.dir, 'state-main', 'issuers', 'acme', 'account.json');
    expect((await stat(account)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(lab.dir, 'state-main', 'pending')).catch(() => [])).toEqual([]);
    expect(await readdir(join(lab.docroot, '.well-known', 'acme-challenge')).catch(() => [])).toEqual([]);
    expect(first.stdout).not.toContain(lab.pebble.eab.hmacKey);

    const before = await fileTimes(ssl);
    const second = await runCli(['check', '--config', file]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('TLS Status: OK');
    expect(lab.pebble.orderCount() - orders).toBe(1);
    expect(await fileTimes(ssl)).toEqual(before);
  });

  it('a wrong EAB key (Sectigo preset pointed at Pebble) gives a clear error and the self-signed fallback', async () => {
    const file = await config({ name: 'wrong-eab', issuer: 'sectigo', eabKey: `-${randomBytes(32).toString('base64url')}` });
    const result = await runCli(['check', '--config', file]);
    expect(result.stdout).toMatch(/EAB_REJECTED/);
    expect(result.stdout).toContain(`the CA rejected the External Account Binding for key id "${lab.pebble.eab.kid}"`);
    expect(result.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    const text = await openssl(['x509', '-in', join(lab.dir, 'ssl-wrong-eab', 'dovecot', 'dovecot.crt'), '-noout', '-issuer']);
    expect(text).toContain(HOST);
    expect(result.code).toBe(0);
  });

  it('the Sectigo preset (EAB required, /Sectigo/ issuer names) pointed at Pebble issues and installs', async () => {
    const file = await config({ name: 'sectigo', issuer: 'sectigo' });
    const result = await runCli(['check', '--config', file]);
    expect(result.stdout).toMatch(/installed a certificate from "sectigo" for cpanel, dovecot, exim, ftp/);
    expect(result.code).toBe(0);
    const account = JSON.parse(await readFile(join(lab.dir, 'state-sectigo', 'issuers', 'sectigo', 'account.json'), 'utf8')) as { directoryUrl: string };
    expect(account.directoryUrl).toBe(lab.pebble.directoryUrl);
  });

  it('an EAB key file that others can read is refused before anything runs (exit 2, names the file)', async () => {
    const file = await config({ name: 'open-eab' });
    await chmod(join(lab.dir, 'open-eab.eab'), 0o644);
    const result = await runCli(['check', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the EAB HMAC key file ${join(lab.dir, 'open-eab.eab')} is readable by others (mode 644): chmod 600 it`);
    expect(result.stderr).not.toContain(lab.pebble.eab.hmacKey);
  });

  it('a directory URL that is not ACME gives ACME_NOT_A_DIRECTORY and the fallback', async () => {
    const file = await config({ name: 'not-acme', options: { directoryUrl: `${lab.pebble.managementUrl}/roots/0` } });
    const result = await runCli(['check', '--config', file]);
    expect(result.stdout).toContain('ACME_NOT_A_DIRECTORY');
    expect(result.stdout).toContain('/roots/0 is not an ACME directory');
    expect(result.stdout).toMatch(/installed a self-signed certificate/);
  });

  it('an order left processing is resumed by the next run, without a second order', async () => {
    const file = await config({ name: 'resume', options: { maxWaitSeconds: 0 } });
    const orders = lab.pebble.orderCount();
    const first = await runCli(['check', '--config', file, '--no-retry']);
    expect(first.stdout).toMatch(/order https:\/\/\S+\/my-order\/\S+ at "acme" is still being processed; it is resumed by the next run/);
    const pendingDir = join(lab.dir, 'state-resume', 'pending');
    const [pendingFile] = await readdir(pendingDir);
    expect(pendingFile).toBe('hostname.acme.json');
    expect((await stat(join(pendingDir, pendingFile!))).mode & 0o777).toBe(0o600);
    // The services had no certificate: the self-signed stopgap meanwhile.
    expect(first.stdout).toContain('installed a self-signed certificate for cpanel, dovecot, exim, ftp until the pending order completes');
    const stopgap = await readdir(join(lab.dir, 'ssl-resume', 'dovecot'));
    expect(stopgap).toContain('dovecot.crt');
    expect(stopgap).not.toContain('mydovecot.crt');
    expect(await atJobsContaining(file)).toEqual([]); // --no-retry never schedules

    await writeFile(file, (await readFile(file, 'utf8')).replace('"maxWaitSeconds": 0', '"maxWaitSeconds": 30'));
    const second = await runCli(['check', '--config', file]);
    expect(second.stdout).toMatch(/installed a certificate from "acme" for cpanel, dovecot, exim, ftp/);
    expect(second.code).toBe(0);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    expect(await readdir(pendingDir)).toEqual([]);
    expect(await readdir(join(lab.docroot, '.well-known', 'acme-challenge')).catch(() => [])).toEqual([]);
  });

  it('refuses a certificate whose key and names do not match the CSR (never installed), then falls back', async () => {
    // A third-party issuer that hands back someone else's certificate: another key, other names.
    await openssl([
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
      '/CN=elsewhere.example.test',
      '-addext',
      'subjectAltName=DNS:elsewhere.example.test',
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-keyout',
      join(lab.dir, 'liar.key'),
      '-out',
      join(lab.dir, 'liar.crt'),
    ]);
    const stolen = await readFile(join(lab.dir, 'liar.crt'), 'utf8');
    const plugin = join(lab.dir, 'liar-plugin.mjs');
    await writeFile(
      plugin,
      `export const manifest = { name: 'liar', apiVersion: 1, setup(ctx) { ctx.contribute.issuer({
      id: 'liar', trusted: true, precheck: 'none', issuerPatterns: [],
      async issue() { return { status: 'issued', certificatePem: ${JSON.stringify(stolen.split(/(?<=-----END CERTIFICATE-----\n)/)[0])}, chainPem: [] }; },
      async resume() { throw new Error('never pending'); } }); } };\n`,
    );
    const file = await config({ name: 'liar', extraPlugins: [plugin], issuers: ['liar', 'selfsigned'] });
    const result = await runCli(['check', '--config', file]);
    expect(result.stdout).toContain('ISSUED_MISMATCH');
    expect(result.stdout).toContain('refused the certificate from "liar"');
    expect(result.stdout).toMatch(/installed a self-signed certificate/);
    const installed = await readdir(join(lab.dir, 'ssl-liar', 'dovecot'));
    expect(installed).not.toContain('mydovecot.crt');
  });

  it('Pebble stopped mid-run: the self-signed fallback, a warning, and one retry queued in the real at queue', async () => {
    const doomed = await lab.startPebble();
    const file = await config({ name: 'stopped', pebble: doomed });
    // Stop Pebble the moment the run publishes its local probe, i.e. after start-up and before the first ACME request.
    const probeDir = join(lab.docroot, '.well-known', 'pki-validation');
    let stopped = false;
    const watcher = (async () => {
      for (let i = 0; i < 6000 && !stopped; i++) {
        if ((await readdir(probeDir).catch(() => [])).length > 0) {
          await doomed.stop();
          stopped = true;
          return;
        }
        await sleep(5);
      }
    })();
    const result = await runCli(['check', '--config', file, '--allow-retry']);
    await watcher;
    expect(stopped).toBe(true);
    expect(result.stdout).toContain('CA_UNREACHABLE');
    expect(result.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    expect(result.stdout).toMatch(/retry scheduled as job (\d+) at /);
    const jobs = await atJobsContaining(file);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.script).toContain(`check --no-retry --config ${file}`);
    expect(jobs[0]!.script).toContain(`# certsmith-job: certsmith-retry:hostname:${file}`);
    // A second --allow-retry run does not queue a second job.
    const again = await runCli(['check', '--config', file, '--allow-retry']);
    expect(again.stdout).toMatch(/retry already scheduled as job \d+/);
    expect(await atJobsContaining(file)).toHaveLength(1);
    await removeAtJobsContaining(file);
  });
});

describe('certsmith check against Pebble with its faults turned on', { timeout: 180_000 }, () => {
  let faulty: Pebble;
  beforeAll(async () => {
    faulty = await lab.startPebble({ env: { PEBBLE_WFE_NONCEREJECT: '50', PEBBLE_AUTHZREUSE: '100', PEBBLE_ALTERNATE_ROOTS: '1' } });
  }, 60_000);
  afterAll(async () => {
    await faulty?.stop();
  });

  it('half the nonces rejected: every order succeeds; reused authorizations need no challenge; the preferred chain is picked', async () => {
    // The alternate root's name, from the management interface: /roots/1 exists with PEBBLE_ALTERNATE_ROOTS=1.
    const alternate = (await faulty.management('/roots/1')).body;
    await writeFile(join(lab.dir, 'alt-root.pem'), alternate);
    const altName = (await openssl(['x509', '-in', join(lab.dir, 'alt-root.pem'), '-noout', '-subject', '-nameopt', 'multiline']))
      .match(/commonName\s*=\s*(.+)/)![1]!
      .trim();
    const stateDir = './state-faults';
    const file = await config({ name: 'faults-1', pebble: faulty, stateDir, options: { preferredChain: altName } });
    const orders = faulty.orderCount();
    const first = await runCli(['check', '--config', file]);
    expect(first.stdout).toMatch(/installed a certificate from "acme"/);
    expect(first.code).toBe(0);
    const ssl1 = join(lab.dir, 'ssl-faults-1');
    expect(
      await openssl([
        'verify',
        '-CAfile',
        join(lab.dir, 'alt-root.pem'),
        '-untrusted',
        join(ssl1, 'cpanel', 'mycpanel.cabundle'),
        join(ssl1, 'cpanel', 'mycpanel.pem'),
      ]),
    ).toContain(': OK');

    // Same account, new sandboxes: Pebble reuses the valid authorizations, so nginx sees no challenge fetch.
    for (const n of [2, 3, 4]) {
      const hits = await challengeHits();
      const next = await runCli(['check', '--config', await config({ name: `faults-${n}`, pebble: faulty, stateDir })]);
      expect(next.stdout, next.stdout).toMatch(/installed a certificate from "acme"/);
      expect(next.code).toBe(0);
      expect(await challengeHits()).toBe(hits);
    }
    expect(faulty.orderCount() - orders).toBe(4);
    // Without a preferred chain the default root signed it.
    await writeFile(join(lab.dir, 'default-root.pem'), (await faulty.management('/roots/0')).body);
    const ssl4 = join(lab.dir, 'ssl-faults-4');
    expect(
      await openssl([
        'verify',
        '-CAfile',
        join(lab.dir, 'default-root.pem'),
        '-untrusted',
        join(ssl4, 'cpanel', 'mycpanel.cabundle'),
        join(ssl4, 'cpanel', 'mycpanel.pem'),
      ]),
    ).toContain(': OK');
  });
});

describe('certsmith check with dns-01 through the DNS DCV plugin on the dnsonly profile', { timeout: 120_000 }, () => {
  it('publishes every _acme-challenge TXT by RFC 2136 update, Pebble validates at BIND, the certificate is installed, the zone is clean', async () => {
    const names = [`ns.${HOST}`];
    const file = await lab.writeConfig('dns01', {
      profile: 'dnsonly',
      hostname: HOST,
      names,
      plugins: [
        { module: '@certsmith/dcv-dns', options: { tsigKeyFile: await lab.copyTsigKey() } },
        { module: '@certsmith/issuer-acme', options: await lab.acmeIssuerOptions('dns01') },
      ],
      issuers: ['acme', 'selfsigned'],
      server: undefined,
      dns: { rootHints: lab.dns.rootHintsFile, port: 53, timeoutMs: 1_000 },
    });
    const orders = lab.pebble.orderCount();
    const hits = await challengeHits();
    const result = await runCli(['check', '--config', file]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Local DNS DCV OK: ${HOST}`);
    expect(result.stdout).toMatch(/installed a certificate from "acme" for cpanel/);
    expect(result.code).toBe(0);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    expect(await challengeHits()).toBe(hits); // no http-01 on a DNS-only server
    const ssl = join(lab.dir, 'ssl-dns01');
    const text = await openssl(['x509', '-in', join(ssl, 'cpanel', 'mycpanel.pem'), '-noout', '-text']);
    expect(text).toContain(`DNS:${HOST}, DNS:ns.${HOST}`);
    await writeFile(join(lab.dir, 'dns01-root.pem'), (await lab.pebble.management('/roots/0')).body);
    expect(
      await openssl([
        'verify',
        '-CAfile',
        join(lab.dir, 'dns01-root.pem'),
        '-untrusted',
        join(ssl, 'cpanel', 'mycpanel.cabundle'),
        join(ssl, 'cpanel', 'mycpanel.pem'),
      ]),
    ).toContain(': OK');
    for (const n of [HOST, ...names]) expect(await lab.dns.dig(lab.dns.addresses.primary, `_acme-challenge.${n}`, 'TXT')).toBe('');
  });
});
