// Rate limits end to end: the built CLI renews through the Sectigo preset against the testlab's rate-limiting ACME
// test double (Pebble cannot rate-limit; the double answers newOrder with 429 rateLimited + Retry-After and offers
// ARI's renewalInfo). Names resolve through the lab's BIND and local HTTP DCV goes through Debian's nginx, so the
// run reaches the CA as it would in production. A site with a valid CA certificate near its renewal threshold
// must keep it; a site with none gets the self-signed stopgap; the ledger makes the next runs leave the CA alone.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  fileTimes,
  run,
  runCli,
  startAcmeLab,
  startRateLimitingAcmeDouble,
  type AcmeLab,
  type LabCa,
  type LabCert,
  type RateLimitingAcmeDouble,
} from '@certsmith/testlab';

const ZONE = `rl-${randomBytes(3).toString('hex')}.example.test`;
const SHOP = [`www.shop.${ZONE}`, `shop.${ZONE}`];
const BLOG = [`blog.${ZONE}`];

let lab: AcmeLab;
let double: RateLimitingAcmeDouble;
/** The double does not check EAB; a key of the right form. */
const EAB = { kid: 'kid-1', hmacKey: randomBytes(32).toString('base64url') };
let provider: LabCa;
let current: LabCert;

beforeAll(async () => {
  [lab, double] = await Promise.all([
    startAcmeLab({ name: 'rate-limits-e2e', webNames: [...SHOP, ...BLOG], pebble: false }),
    startRateLimitingAcmeDouble({ renewalInfo: true }),
  ]);
  // The certificate in place: from the configured provider (a lab CA), a 90-day one with 10 days left (due).
  provider = await createCa(join(lab.dir, 'provider'), { cn: 'Lab Provider CA' });
  current = await provider.issue('shop', {
    cn: SHOP[0],
    san: SHOP,
    notBefore: new Date(Date.now() - 80 * 86_400_000),
    notAfter: new Date(Date.now() + 10 * 86_400_000),
  });
}, 120_000);

afterAll(async () => {
  await double?.stop();
  await lab?.stop();
});

/** A sandbox: its own state and ssl dirs, the shop's current certificate in place, the blog without one. */
async function sandbox(name: string): Promise<{ config: string; state: string; ssl: string }> {
  const ssl = join(lab.dir, `ssl-${name}`);
  await mkdir(join(ssl, 'live', 'shop'), { recursive: true });
  await writeFile(join(ssl, 'live', 'shop', 'fullchain.pem'), current.certPem + provider.certPem);
  await writeFile(join(ssl, 'live', 'shop', 'privkey.pem'), current.keyPem, { mode: 0o600 });
  const config = await lab.writeConfig(name, {
    hostname: `host.${ZONE}`,
    services: { cpanel: false, dovecot: false, exim: false, ftp: false },
    plugins: [
      lab.httpDcvPlugin,
      {
        module: '@certsmith/issuer-sectigo',
        options: { ...(await lab.acmeIssuerOptions(name, { ca: double, eab: EAB })), issuerPatterns: ['Lab Provider CA'] },
      },
      { module: '@certsmith/installer-files' },
    ],
    issuers: ['sectigo', 'selfsigned'],
    targets: [
      { id: 'shop', names: SHOP, services: ['files'] },
      { id: 'blog', names: BLOG, services: ['files'] },
    ],
  });
  return { config, state: join(lab.dir, `state-${name}`), ssl };
}

// The lab provider's root in the trust store, so the certificate in place verifies as a real CA's would.
const env = () => ({ SSL_CERT_FILE: provider.certFile });

/** RFC 9773's certificate id of a PEM, worked out with openssl (independently of certsmith's own code). */
async function ariId(pem: string): Promise<string> {
  const text = (await run('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier', '-serial'], { input: pem })).stdout;
  const aki = /(?:keyid:)?((?:[0-9A-F]{2}:){19}[0-9A-F]{2})/.exec(text)![1]!.replace(/:/g, '');
  let serial = /serial=([0-9A-F]+)/.exec(text)![1]!;
  if (serial.length % 2) serial = `0${serial}`;
  if (/^[89A-F]/.test(serial)) serial = `00${serial}`;
  return `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(serial, 'hex').toString('base64url')}`;
}

/** The requests since the n-th other than reading the directory and ARI (which a rate limit does not cover). */
const beyondAri = (n: number) => double.requests.slice(n).filter((r) => !(r.method === 'GET' && (r.path === '/dir' || r.path.startsWith('/renewal-info/'))));

const UNTIL = /not asking "sectigo" for www\.shop\.[\w.-]+, shop\.[\w.-]+ again until (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/;

describe('certsmith check when the CA rate-limits', { timeout: 120_000 }, () => {
  it('a renewal that meets a rate limit warns with the time, keeps the valid certificate, records the limit; the next runs do not ask the CA', async () => {
    double.behave({ retryAfter: '10800', rejectReplaces: false, answer: 'rateLimited', detail: undefined });
    const { config, state, ssl } = await sandbox('main');
    const before = await readFile(join(ssl, 'live', 'shop', 'fullchain.pem'), 'utf8');
    const started = Date.now();
    const requests = double.requests.length;
    const first = await runCli(['check', '--config', config], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('TLS Status: Ready for Renewal');
    expect(first.stdout).toContain('Action: request a CA-signed certificate');
    expect(first.stdout).toContain(`Local HTTP DCV OK: ${SHOP[0]}`);
    expect(first.stdout).toMatch(
      /Warning \(issue, issuer sectigo\): ACME_RATE_LIMITED: the CA said: too many certificates \(5\) already issued for this exact set of identifiers in the last 168h0m0s \(retry after [^)]+\); not asking "sectigo" for www\.shop\.[\w.-]+, shop\.[\w.-]+ again until \S+ → keep the current certificate/,
    );
    const until = UNTIL.exec(first.stdout)![1]!;
    // Retry-After: 10800 seconds, as the double said.
    expect(Math.abs(new Date(until).getTime() - (started + 10_800_000))).toBeLessThan(60_000);
    expect(first.stdout).toMatch(/shop \(www\.shop\.[\w.-]+, shop\.[\w.-]+\): kept/);
    expect(first.stdout).toContain('no CA certificate could be had; the current certificate stays');
    // The site without a certificate still gets the self-signed stopgap.
    expect(first.stdout).toMatch(/blog \(blog\.[\w.-]+\): replaced/);
    expect(first.stdout).toContain('installed a self-signed certificate for files');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Done.');
    // Untouched: same bytes, same fingerprint, nothing self-signed in its place.
    expect(await readFile(join(ssl, 'live', 'shop', 'fullchain.pem'), 'utf8')).toBe(before);
    const issuer = (await run('openssl', ['x509', '-noout', '-issuer', '-in', join(ssl, 'live', 'shop', 'fullchain.pem')])).stdout;
    expect(issuer).toContain('Lab Provider CA');
    // The renewal named the certificate it replaces (ARI), worked out independently with openssl.
    const orders = double.orders();
    expect(orders.find((o) => JSON.stringify(o).includes(SHOP[0]!))!.replaces).toBe(await ariId(current.certPem));
    expect(orders.find((o) => JSON.stringify(o).includes(BLOG[0]!))!.replaces).toBeUndefined();
    // The ledger: 0600, one entry per name, with the CA's words.
    const ledgerFile = join(state, 'rate-limits.json');
    expect((await stat(ledgerFile)).mode & 0o777).toBe(0o600);
    const ledger = JSON.parse(await readFile(ledgerFile, 'utf8')) as {
      entries: { issuer: string; scope: string; name: string; until: string; detail: string }[];
    };
    expect(ledger.entries.map((e) => e.name).sort()).toEqual([...SHOP, ...BLOG].sort());
    expect(ledger.entries.every((e) => e.issuer === 'sectigo' && e.scope === 'name' && e.detail.includes('too many certificates'))).toBe(true);
    expect(new Date(ledger.entries.find((e) => e.name === SHOP[0])!.until).toISOString().replace('.000Z', 'Z')).toBe(until);
    expect(double.requests.length).toBeGreaterThan(requests);

    const shopTimes = await fileTimes(join(ssl, 'live', 'shop'));
    const asked = double.requests.length;
    const second = await runCli(['check', '--config', config], { env: env() });
    expect(second.code).toBe(0);
    expect(beyondAri(asked)).toEqual([]); // the CA was asked nothing but its renewal information
    expect(second.stdout).toContain(
      `Warning (issue, issuer sectigo): RATE_LIMITED: not asking "sectigo" for ${SHOP.join(', ')} until ${until} (rateLimited: too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s) → keep the current certificate`,
    );
    expect(second.stdout).toContain(`RATE_LIMITED: not asking "sectigo" for ${BLOG[0]} until `);
    expect(second.stdout).not.toContain(`Local HTTP DCV OK: ${SHOP[0]}`); // not even the local pre-check
    expect(await fileTimes(join(ssl, 'live', 'shop'))).toEqual(shopTimes);

    const json = await runCli(['check', '--json', '--config', config], { env: env() });
    expect(json.code).toBe(0);
    expect(beyondAri(asked)).toEqual([]);
    const report = JSON.parse(json.stdout) as {
      exitCode: number;
      targets: { target: string; result: string; failures: { code: string; severity: string; until?: string; message: string }[] }[];
    };
    expect(report.exitCode).toBe(0);
    const shop = report.targets.find((t) => t.target === 'shop')!;
    expect(shop.result).toBe('kept');
    expect(shop.failures).toEqual([expect.objectContaining({ code: 'RATE_LIMITED', severity: 'warning', until })]);
  });

  it('a Retry-After in the past is floored at a minute, one absurdly far is capped at 7 days; the line says so', async () => {
    double.behave({ retryAfter: 'Mon, 01 Jan 2001 00:00:00 GMT' });
    const past = await sandbox('past');
    const started = Date.now();
    const floored = await runCli(['check', '--config', past.config], { env: env() });
    expect(floored.code).toBe(0);
    expect(floored.stdout).toContain("(the CA's Retry-After (2001-01-01T00:00:00Z) is not in the future: 1 minute floor)");
    const flooredUntil = new Date(UNTIL.exec(floored.stdout)![1]!).getTime();
    expect(flooredUntil - started).toBeGreaterThanOrEqual(59_000);
    expect(flooredUntil - started).toBeLessThan(5 * 60_000);

    double.behave({ retryAfter: '999999999' }); // about 31 years
    const far = await sandbox('far');
    const capped = await runCli(['check', '--config', far.config], { env: env() });
    expect(capped.code).toBe(0);
    expect(capped.stdout).toMatch(/\(the CA's Retry-After \(20[5-9]\d-[^)]+\) is beyond the 7-day cap\)/);
    const cappedUntil = new Date(UNTIL.exec(capped.stdout)![1]!).getTime();
    expect(Math.abs(cappedUntil - (Date.now() + 7 * 86_400_000))).toBeLessThan(5 * 60_000);
    double.behave({ retryAfter: '10800' });
  });

  it('a ledger edited by hand into nonsense: one clear warning naming the file, and the run goes on for every target', async () => {
    double.behave({ retryAfter: '10800' });
    const { config, state, ssl } = await sandbox('nonsense');
    await mkdir(state, { recursive: true, mode: 0o700 });
    const ledgerFile = join(state, 'rate-limits.json');
    await writeFile(ledgerFile, '{"version": 1, "entries": [ {"issuer": "sectigo", "until": tomorrow', { mode: 0o600 });
    const before = await readFile(join(ssl, 'live', 'shop', 'fullchain.pem'), 'utf8');
    const result = await runCli(['check', '--config', config], { env: env() });
    expect(result.code).toBe(0);
    const warnings = result.stdout.split('\n').filter((l) => l.includes('Warning (issue, issuer sectigo): RATE_LIMIT_LEDGER_INVALID'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${ledgerFile}: not valid JSON`);
    expect(warnings[0]).toContain('→ go on as if no rate limit were recorded');
    // Every target went on: the shop asked the CA (and met the limit), the blog got its stopgap.
    expect(result.stdout).toMatch(/shop \([^)]+\): kept/);
    expect(result.stdout).toMatch(/blog \([^)]+\): replaced/);
    expect(result.stdout).toContain('ACME_RATE_LIMITED');
    expect(await readFile(join(ssl, 'live', 'shop', 'fullchain.pem'), 'utf8')).toBe(before);
    // The next rate limit rewrote it as a valid ledger.
    const ledger = JSON.parse(await readFile(ledgerFile, 'utf8')) as { entries: unknown[] };
    expect(ledger.entries).toHaveLength(3);
  });

  it('a CA that refuses `replaces` (already replaced) gets the order once more without it', async () => {
    double.behave({ retryAfter: '10800', rejectReplaces: true });
    const { config } = await sandbox('replaced');
    const orders = double.orders().length;
    const result = await runCli(['check', '--config', config, '--target', 'shop'], { env: env() });
    expect(result.code).toBe(0);
    const placed = double.orders().slice(orders);
    expect(placed.map((o) => o.replaces)).toEqual([await ariId(current.certPem), undefined]);
    expect(result.stdout).toMatch(
      /Warning \(issue, issuer sectigo\): ARI_REPLACES_REFUSED: the CA refused the order with replaces "[\w-]+\.[\w-]+": the CA said: the certificate [\w.-]+ has already been replaced by another order → order again without "replaces"/,
    );
    expect(result.stdout).toContain('ACME_RATE_LIMITED');
    double.behave({ rejectReplaces: false });
  });
});
