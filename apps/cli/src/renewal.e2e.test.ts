// Renewal decisions end to end, over several runs of the built CLI, against the testlab's issuing ACME double (Pebble
// 2.4 has neither profiles nor ARI): names resolve through the lab's BIND, the double validates http-01 through the
// lab's nginx, and the tests count the orders the CA received. What matters is what happens on the next runs: a
// 6-day certificate is renewed once, at half its life; a name that fails local DCV causes no order loop; ARI's
// window comes first; a key file open to others is narrowed in place without an order.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, runCli, startAcmeLab, startIssuingAcmeDouble, type AcmeLab, type IssuingAcmeDouble } from '@certsmith/testlab';

const ZONE = `ren-${randomBytes(3).toString('hex')}.example.test`;
const HOST = `host.${ZONE}`;
/** Points nowhere until a test adds it to the zone: it fails local DCV (no such name). */
const BROKEN = `www.${ZONE}`;
const DAY = 86_400_000;
const EAB = { kid: 'kid-1', hmacKey: randomBytes(32).toString('base64url') };
const SHORTLIVED = { shortlived: { description: '6-day certificates', lifetimeHours: 144, emptySubject: true } };

let lab: AcmeLab;
let double: IssuingAcmeDouble;

beforeAll(async () => {
  lab = await startAcmeLab({ name: 'renewal-e2e', webNames: [HOST, BROKEN], pointedNames: [HOST], pebble: false });
  double = await startIssuingAcmeDouble({ validation: { http01: { address: lab.nginx.address, port: lab.nginx.httpPort } }, ari: false });
}, 120_000);

afterAll(async () => {
  await double?.stop();
  await lab?.stop();
});

/** A full-profile config of its own (state and ssl dirs named after it) ordering from the double. */
async function config(name: string, fields: { names?: string[]; profile?: string } = {}): Promise<string> {
  return lab.writeConfig(name, {
    profile: 'full',
    hostname: HOST,
    names: fields.names ?? [],
    services: { exim: false, ftp: false, cpanel: false },
    plugins: [
      lab.httpDcvPlugin,
      {
        module: '@certsmith/issuer-acme',
        options: {
          ...(await lab.acmeIssuerOptions(name, { ca: double, eab: EAB })),
          issuerPatterns: [double.issuerPattern],
          ...(fields.profile ? { profile: fields.profile } : {}),
        },
      },
    ],
    issuers: ['acme', 'selfsigned'],
  });
}

/** One run at `now` (the double issues as of the same moment); the orders the CA received during it. */
async function checkAt(file: string, now: Date, ...extra: string[]) {
  double.behave({ now: () => now });
  const before = double.orderCount();
  const result = await runCli(['check', '--config', file, ...extra], { env: { CERTSMITH_FAKE_NOW: now.toISOString(), SSL_CERT_FILE: double.rootFile } });
  return { ...result, orders: double.orderCount() - before };
}

const later = (start: Date, days: number) => new Date(start.getTime() + days * DAY);

describe('certsmith check over several runs', { timeout: 180_000 }, () => {
  it('renews a 6-day certificate once, at half its life, and then leaves it alone', async () => {
    double.behave({ profiles: SHORTLIVED, ari: false });
    const file = await config('sixday', { profile: 'shortlived' });
    const start = new Date(Date.now() + 60_000);
    const first = await checkAt(file, start);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.orders).toBe(1);
    expect(first.stdout).toMatch(/installed a certificate from "acme" for dovecot/);

    // The empty-subject certificate is healthy on the next runs, up to half its life.
    for (const days of [0.01, 1, 2.9]) {
      const calm = await checkAt(file, later(start, days));
      expect(calm.stdout, `day ${days}`).toContain('TLS Status: OK');
      expect(calm.orders, `day ${days}`).toBe(0);
    }

    const due = await checkAt(file, later(start, 3.05));
    expect(due.stdout).toContain('TLS Status: Ready for Renewal');
    expect(due.stdout).toMatch(/Defect: ALMOST_EXPIRED: the certificate expires in 2\.9\d days: due for renewal since .* UTC, at half of its 6-day lifetime/);
    expect(due.orders).toBe(1);
    expect(due.code).toBe(0);

    // The new certificate is not due on the runs that follow.
    for (const days of [3.1, 4, 5.9]) {
      const after = await checkAt(file, later(start, days));
      expect(after.stdout, `day ${days}`).toContain('TLS Status: OK');
      expect(after.orders, `day ${days}`).toBe(0);
    }
    expect(
      double
        .issued()
        .slice(-2)
        .map((c) => c.profile),
    ).toEqual(['shortlived', 'shortlived']);
  });

  it('a name that fails local DCV is dropped once: three runs, one order; it is ordered again once it passes', async () => {
    double.behave({ profiles: undefined, ari: false });
    const file = await config('dropped', { names: [BROKEN] });
    const now = new Date(Date.now() + 60_000);
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await checkAt(file, later(now, i * 0.5)));
    expect(runs.map((r) => r.orders)).toEqual([1, 0, 0]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(double.orders().at(-1)!.identifiers).toEqual([{ type: 'dns', value: HOST }]);
    for (const later of runs.slice(1)) {
      // Each run says which name is missing and why, and keeps the certificate.
      expect(later.stdout).toMatch(new RegExp(`Local HTTP DCV error \\(${BROKEN.replace(/\./g, '\\.')}\\)`));
      expect(later.stdout).toMatch(/keep the current certificate; order again once the name passes/);
      expect(later.stdout).toContain(`kept the certificate: it covers every name that can be validated now; not covered: ${BROKEN}`);
    }

    await lab.dns.updateExampleZone([`update add ${BROKEN}. 60 IN A ${lab.nginx.address}`]);
    const fixed = await checkAt(file, later(now, 1.5));
    expect(fixed.orders).toBe(1);
    expect(double.orders().at(-1)!.identifiers).toEqual([
      { type: 'dns', value: HOST },
      { type: 'dns', value: BROKEN },
    ]);
    const settled = await checkAt(file, later(now, 2));
    expect(settled.orders).toBe(0);
    expect(settled.stdout).toContain('TLS Status: OK');
    await lab.dns.updateExampleZone([`update delete ${BROKEN}. A`]);
  });

  it("the CA's ARI window comes first; an unusable answer is one warning and the lifetime rule decides", async () => {
    // The double's window: the last third of the life (days 4 to 4.2 of 6), later than the half-life rule.
    double.behave({ profiles: SHORTLIVED, ari: 'lifetime' });
    const file = await config('ari', { profile: 'shortlived' });
    const start = new Date(Date.now() + 60_000);
    expect((await checkAt(file, start)).orders).toBe(1);
    const halfway = await checkAt(file, later(start, 3.5));
    expect(halfway.orders).toBe(0);
    expect(halfway.stdout).toContain('TLS Status: OK');
    const inWindow = await checkAt(file, later(start, 4.3));
    expect(inWindow.stdout).toMatch(/Defect: ARI_RENEWAL_DUE: the CA \("acme"\) suggests renewing between \S+ and \S+ \(ACME Renewal Information\); due since/);
    expect(inWindow.orders).toBe(1);

    double.behave({ ari: () => 'malformed' });
    const next = later(start, 4.4);
    const malformed = await checkAt(file, next);
    expect(malformed.orders).toBe(0);
    expect(malformed.stdout).toMatch(
      /Warning: ARI_INVALID: the renewal information \(ARI\) of issuer "acme" for this certificate is unusable: .*suggestedWindow.*; renewal follows the certificate's own lifetime/,
    );
    expect(malformed.stderr).toBe('');
    expect(malformed.code).toBe(0);
    const dueByLifetime = await checkAt(file, later(next, 3.05));
    expect(dueByLifetime.stdout).toMatch(/ALMOST_EXPIRED: .* at half of its 6-day lifetime/);
    expect(dueByLifetime.orders).toBe(1);
  });

  it('a key file open to others is narrowed to 0600 in place, without an order', async () => {
    double.behave({ profiles: undefined, ari: false });
    const file = await config('keymode');
    const now = new Date(Date.now() + 60_000);
    expect((await checkAt(file, now)).orders).toBe(1);
    const key = join(lab.dir, 'ssl-keymode', 'dovecot', 'mydovecot.key');
    const certificate = await readFile(join(lab.dir, 'ssl-keymode', 'dovecot', 'mydovecot.crt'), 'utf8');
    await chmod(key, 0o644);
    const open = await checkAt(file, later(now, 0.1));
    expect(open.stdout).toMatch(
      /Warning: KEY_PERMISSIONS: \S+mydovecot\.key: the private key is open to its group and every user \(mode 0644\); it is narrowed to 0600 in place/,
    );
    expect(open.stdout).toContain('narrowed');
    expect(open.orders).toBe(0);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    expect(await readFile(join(lab.dir, 'ssl-keymode', 'dovecot', 'mydovecot.crt'), 'utf8')).toBe(certificate);
    const clean = await checkAt(file, later(now, 0.2));
    expect(clean.stdout).not.toContain('KEY_PERMISSIONS');
  });

  it('a provider pattern matches the issuer as an administrator writes it (a comma inside a name, unescaped)', async () => {
    const provider = await createCa(join(lab.dir, 'comma-ca'), { cn: 'Lab, Inc. Provider CA' });
    // A 60-day certificate with 24 days left: due for a provider certificate (25 days), not for another one (3 days).
    const now = Date.now();
    const cert = await provider.issue('comma', { cn: HOST, san: [HOST], notBefore: new Date(now - 36 * DAY), notAfter: new Date(now + 24 * DAY) });
    const ssl = join(lab.dir, 'ssl-comma', 'dovecot');
    await mkdir(ssl, { recursive: true });
    await writeFile(join(ssl, 'mydovecot.crt'), cert.certPem + provider.certPem);
    await writeFile(join(ssl, 'mydovecot.key'), cert.keyPem, { mode: 0o600 });
    const file = await lab.writeConfig('comma', {
      profile: 'full',
      hostname: HOST,
      services: { exim: false, ftp: false, cpanel: false },
      issuers: ['selfsigned'],
      inspection: { live: false, providerIssuerPatterns: ['CN=Lab, Inc\\. Provider CA'] },
    });
    const result = await runCli(['check', '--dry-run', '--json', '--config', file], { env: { SSL_CERT_FILE: provider.certFile } });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as {
      targets: { services: { inspect: { providerIssued: boolean; summary: { issuer: string }; defects: { code: string; message: string }[] } }[] }[];
    };
    const inspect = report.targets[0]!.services[0]!.inspect;
    expect(inspect.summary.issuer).toBe('CN=Lab\\, Inc. Provider CA');
    expect(inspect.providerIssued).toBe(true);
    expect(inspect.defects).toEqual([
      expect.objectContaining({
        code: 'ALMOST_EXPIRED',
        message: expect.stringContaining('under the 25-day threshold for certificates from the configured provider'),
      }),
    ]);
  });
});
