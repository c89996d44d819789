// ACME profiles end to end: the built CLI orders through the generic ACME issuer from the testlab's issuing ACME
// double (Pebble 2.4 has no profiles), which offers Let's Encrypt-like `classic` and `tlsserver` profiles and checks
// http-01 through the lab's nginx, and answers ARI (RFC 9773) with a Let's Encrypt-like window. Names resolve
// through the lab's BIND, local HTTP DCV goes through that nginx.
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileTimes, run, runCli, startAcmeLab, startIssuingAcmeDouble, type AcmeLab, type IssuingAcmeDouble } from '@certsmith/testlab';

const ZONE = `pf-${randomBytes(3).toString('hex')}.example.test`;
const SITE = [`www.${ZONE}`, ZONE];

let lab: AcmeLab;
let double: IssuingAcmeDouble;

beforeAll(async () => {
  lab = await startAcmeLab({ name: 'profiles-e2e', webNames: SITE, pebble: false });
  double = await startIssuingAcmeDouble({
    profiles: {
      classic: { description: 'the default', lifetimeHours: 2160 },
      tlsserver: { description: 'names in the SAN only', lifetimeHours: 2160, emptySubject: true },
    },
    defaultProfile: 'classic',
    validation: { http01: { address: lab.nginx.address, port: lab.nginx.httpPort } },
  });
}, 120_000);

afterAll(async () => {
  await double?.stop();
  await lab?.stop();
});

/** A sandbox (its own state and ssl dirs) whose ACME issuer has these extra options; returns the config and the dirs. */
async function sandbox(name: string, options: Record<string, unknown>): Promise<{ config: string; ssl: string }> {
  const { directoryUrl, caFile } = await lab.acmeIssuerOptions(name, { ca: double, eab: { kid: 'unused', hmacKey: 'unused' } });
  const config = await lab.writeConfig(name, {
    hostname: `host.${ZONE}`,
    services: { cpanel: false, dovecot: false, exim: false, ftp: false },
    plugins: [
      lab.httpDcvPlugin,
      { module: '@certsmith/issuer-acme', options: { directoryUrl, caFile, issuerPatterns: [double.issuerPattern], ...options } },
      { module: '@certsmith/installer-files' },
    ],
    issuers: ['acme', 'selfsigned'],
    targets: [{ id: 'site', names: SITE, services: ['files'] }],
  });
  return { config, ssl: join(lab.dir, `ssl-${name}`) };
}

// The double's root in the trust store, so that what it issued verifies as a public CA's would.
const env = () => ({ SSL_CERT_FILE: double.rootFile });

const ISSUED = new RegExp(
  `Issued by "acme" \\(profile (\\w+)\\): certificate for ${SITE[0]!.replace(/\./g, '\\.')}, ${SITE[1]!.replace(/\./g, '\\.')}, expires `,
);

describe('certsmith check with an ACME profile', { timeout: 120_000 }, () => {
  it('orders under the configured profile, installs its empty-subject certificate and says which profile issued it; a second run orders nothing', async () => {
    const { config, ssl } = await sandbox('tlsserver', { profile: 'tlsserver' });
    const orders = double.orderCount();
    const first = await runCli(['check', '--config', config], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(`Local HTTP DCV OK: ${SITE[0]}`);
    expect(ISSUED.exec(first.stdout)?.[1]).toBe('tlsserver');
    expect(first.stdout).toMatch(/site \([^)]+\): replaced/);
    expect(first.code).toBe(0);
    expect(double.orderCount()).toBe(orders + 1);
    expect(double.orders().at(-1)).toEqual({ identifiers: SITE.map((value) => ({ type: 'dns', value })), profile: 'tlsserver' });

    const fullchain = join(ssl, 'live', 'site', 'fullchain.pem');
    const text = (await run('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName', '-in', fullchain])).stdout;
    expect(text).toMatch(/^subject=\s*$/m);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical/);
    expect(text).toContain(`DNS:${SITE[0]}, DNS:${SITE[1]}`);
    expect((await readFile(fullchain, 'utf8')).trim()).toBe(double.issued().at(-1)!.chainPem.trim());

    const times = await fileTimes(join(ssl, 'live', 'site'));
    const second = await runCli(['check', '--json', '--config', config], { env: env() });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as { targets: { target: string; result: string; issued?: unknown }[] };
    const site = report.targets.find((t) => t.target === 'site')!;
    expect(site.result).toBe('healthy');
    expect(site.issued).toBeUndefined();
    expect(double.orderCount()).toBe(orders + 1);
    expect(await fileTimes(join(ssl, 'live', 'site'))).toEqual(times);
  });

  it('the run report (--json) names the profile of what was issued', async () => {
    const { config } = await sandbox('json', { profile: 'tlsserver' });
    const result = await runCli(['check', '--json', '--config', config], { env: env() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      targets: { target: string; issued: { status: string; issuer: string; profile?: string; summary: { subject: string } } }[];
    };
    expect(report.targets.find((t) => t.target === 'site')!.issued).toMatchObject({
      status: 'issued',
      issuer: 'acme',
      profile: 'tlsserver',
      summary: { subject: '(empty subject)', commonName: null },
    });
  });

  it('a profile the CA does not offer: exit 2 with one line naming the option and what the CA offers; nothing ordered, nothing written', async () => {
    const { config, ssl } = await sandbox('unknown', { profile: 'shortlived' });
    const requests = double.requests.length;
    const orders = double.orderCount();
    const result = await runCli(['check', '--config', config], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^certsmith: /);
    expect(lines[0]).toContain(
      `${config}: $.plugins[1].options.profile: the CA at ${double.directoryUrl} offers no profile "shortlived" (it offers: classic, tlsserver)`,
    );
    expect(lines[0]).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    // The directory was read, nothing else.
    expect(double.requests.slice(requests).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /dir']);
    expect(double.orderCount()).toBe(orders);
    await expect(stat(ssl)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(lab.dir, 'state-unknown'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("no profile configured: the order names none and the CA's default issues; the log says which", async () => {
    const { config, ssl } = await sandbox('default', {});
    const requests = double.requests.length;
    const result = await runCli(['check', '--config', config], { env: env() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const orders = double.requests
      .slice(requests)
      .filter((r) => r.path === '/new-order')
      .map((r) => r.payload);
    expect(orders).toEqual([{ identifiers: SITE.map((value) => ({ type: 'dns', value })) }]);
    expect(ISSUED.exec(result.stdout)?.[1]).toBe('classic');
    const subject = (await run('openssl', ['x509', '-noout', '-subject', '-in', join(ssl, 'live', 'site', 'fullchain.pem')])).stdout;
    expect(subject.trim()).toBe(`subject=CN = ${SITE[0]}`);
  });

  it("a certificate the CA's ARI window says to renew is renewed under the same profile, naming the one it replaces", async () => {
    const { config, ssl } = await sandbox('renew', { profile: 'classic' });
    const first = await runCli(['check', '--config', config], { env: env() });
    expect(first.code).toBe(0);
    const installed = double.issued().at(-1)!;
    expect(installed.profile).toBe('classic');
    // Past the end of the window the double suggests (around two thirds of 90 days), still 28 days before expiry:
    // only ARI makes it due. The double dates the new certificate by the same clock.
    const life = installed.notAfter.getTime() - installed.notBefore.getTime();
    const later = new Date(installed.notBefore.getTime() + (2 * life) / 3 + life / 50 + 3_600_000);
    expect(installed.notAfter.getTime() - later.getTime()).toBeGreaterThan(25 * 86_400_000);
    double.behave({ now: () => later });
    try {
      const orders = double.orderCount();
      const renewal = await runCli(['check', '--config', config], { env: { ...env(), CERTSMITH_FAKE_NOW: later.toISOString() } });
      expect(renewal.stderr).toBe('');
      expect(renewal.stdout).toContain('ARI_RENEWAL_DUE');
      expect(ISSUED.exec(renewal.stdout)?.[1]).toBe('classic');
      expect(renewal.code).toBe(0);
      expect(double.orderCount()).toBe(orders + 1);
      expect(double.orders().at(-1)).toEqual({ identifiers: SITE.map((value) => ({ type: 'dns', value })), profile: 'classic', replaces: installed.certId });
      const renewed = double.issued().at(-1)!;
      expect(renewed.notBefore.getTime()).toBe(later.getTime() - 60_000);
      expect((await readFile(join(ssl, 'live', 'site', 'cert.pem'), 'utf8')).trim()).toBe(renewed.pem.trim());
    } finally {
      double.behave({ now: undefined });
    }
  });
});
