// AAAA as well as A in the pre-order proof, end to end: the built CLI resolves names iteratively from the lab's BIND
// root; `dual.` has an A record to the nginx that serves the docroot and an AAAA record to ::1, where a second nginx
// serves an empty root (404) or, later, nothing listens (connection refused). Pebble (EAB) issues for what is left.
// The generic ACME issuer lets the AAAA address decide (as Pebble's VA does); the Sectigo preset keeps cPanel's
// first-address rule; 'ipv6-then-ipv4' models Let's Encrypt's retry over IPv4 after a failed IPv6 connection.
// ::1 is the lab's only IPv6 address: the file holds the lab's IPv6 lock from start to end.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPV6_LOOPBACK, run, runCli, startAcmeLab, type AcmeLab } from '@certsmith/testlab';

const HOST = `v6-${randomBytes(3).toString('hex')}.example.test`;
const WWW = `www.${HOST}`;
const DUAL = `dual.${HOST}`;

let lab: AcmeLab;

beforeAll(async () => {
  lab = await startAcmeLab({
    name: 'aaaa-e2e',
    webNames: [HOST, WWW, DUAL],
    ipv6WebNames: [DUAL],
    records: [`update add ${DUAL}. 60 IN AAAA ${IPV6_LOOPBACK}`],
  });
  expect(await lab.dns.dig(lab.dns.addresses.primary, DUAL, 'AAAA')).toBe(IPV6_LOOPBACK);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

/** A config in its own sandbox; `acme` prefers IPv6 by default, `sectigo` (pointed at Pebble) keeps the first address. */
async function config(name: string, issuer: 'acme' | 'sectigo', options: Record<string, unknown> = {}): Promise<string> {
  return lab.writeConfig(name, {
    profile: 'full',
    hostname: HOST,
    names: [WWW, DUAL],
    plugins: [
      lab.httpDcvPlugin,
      {
        module: `@certsmith/issuer-${issuer}`,
        options: {
          ...(await lab.acmeIssuerOptions(name)),
          ...(issuer === 'acme' ? { issuerPatterns: ['Pebble'] } : {}),
          ...options,
        },
      },
    ],
    issuers: [issuer, 'selfsigned'],
    // ::1 is this server's (loopback lab): the address rule lets it through, and the HTTP check decides.
    server: { addresses: [lab.nginx.address, IPV6_LOOPBACK] },
  });
}

/** The names in the installed certificate's SAN. */
async function certifiedNames(name: string): Promise<string[]> {
  const result = await run('openssl', ['x509', '-in', join(lab.dir, `ssl-${name}`, 'dovecot', 'mydovecot.crt'), '-noout', '-ext', 'subjectAltName']);
  expect(result.code, result.stderr).toBe(0);
  return [...result.stdout.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!).sort();
}

interface JsonReport {
  targets: {
    result: string;
    validations: { name: string; ok: boolean; code?: string; reason?: string; warnings?: { code: string; message: string }[] }[];
    failures: { code: string; name?: string; message: string; next: string; severity: string }[];
  }[];
}

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const finding = (what: string) => `${DUAL}: the file is not served over [::1] (${what}) but is over ${lab.nginx.address}`;

describe('certsmith check/dcv with a name whose AAAA address does not serve the file', { timeout: 120_000 }, () => {
  it('an issuer that prefers IPv6 (generic ACME) drops the name on a 404 over IPv6; Pebble certifies the rest', async () => {
    const file = await config('v6-404', 'acme');
    const orders = lab.pebble.orderCount();
    const result = await runCli(['check', '--config', file]);
    const out = result.stdout;
    expect(result.stderr).toBe('');
    expect(out).toContain(`Local HTTP DCV OK: ${WWW}\n`);
    expect(out).toContain(
      `Local HTTP DCV error (${DUAL}): ${finding('404')}; the CA fetches over IPv6 when the name has an AAAA record: serve the file over IPv6 too (the same docroot) or remove the AAAA record\n`,
    );
    expect(out).toMatch(new RegExp(`Warning \\(validate, ${esc(DUAL)}\\): AAAA_UNREACHABLE: ${esc(finding('404'))}; .* → drop this name from the order`));
    expect(out).toMatch(/installed a certificate from "acme" for cpanel, dovecot, exim, ftp/);
    expect(result.code).toBe(0);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    expect(await certifiedNames('v6-404')).toEqual([HOST, WWW].sort());
    expect(await readdir(lab.docroot)).toEqual([]);

    const json = await runCli(['check', '--config', await config('v6-404-json', 'acme'), '--json']);
    const report = JSON.parse(json.stdout) as JsonReport;
    const target = report.targets[0]!;
    expect(target.validations.find((v) => v.name === DUAL)).toMatchObject({
      ok: false,
      code: 'AAAA_UNREACHABLE',
      reason: expect.stringContaining(finding('404')),
    });
    expect(target.failures).toContainEqual(
      expect.objectContaining({ code: 'AAAA_UNREACHABLE', name: DUAL, severity: 'warning', next: 'drop this name from the order' }),
    );
    expect(await certifiedNames('v6-404-json')).toEqual([HOST, WWW].sort());
  });

  it('the first-address rule (Sectigo preset) follows the first address, AAAA: the name is dropped as well, and says why', async () => {
    const file = await config('first-404', 'sectigo');
    const result = await runCli(['check', '--config', file]);
    expect(result.stdout).toContain(`Local HTTP DCV error (${DUAL}): ${finding('404')}; the first address decides, and the AAAA address comes first`);
    expect(result.stdout).toMatch(
      new RegExp(`Warning \\(validate, ${esc(DUAL)}\\): AAAA_UNREACHABLE: ${esc(finding('404'))}; .* → drop this name from the order`),
    );
    expect(result.stdout).toMatch(/installed a certificate from "sectigo" for cpanel, dovecot, exim, ftp/);
    expect(result.code).toBe(0);
    expect(await certifiedNames('first-404')).toEqual([HOST, WWW].sort());

    const json = await runCli(['check', '--config', await config('first-404-json', 'sectigo'), '--json']);
    const report = JSON.parse(json.stdout) as JsonReport;
    expect(report.targets[0]!.validations.find((v) => v.name === DUAL)).toMatchObject({ ok: false, code: 'AAAA_UNREACHABLE' });
    expect(report.targets[0]!.failures).toContainEqual(
      expect.objectContaining({ code: 'AAAA_UNREACHABLE', name: DUAL, next: 'drop this name from the order' }),
    );
  });

  it('`certsmith dcv` shows the line and carries the code, judged as the configured issuer picks addresses', async () => {
    const human = await runCli(['dcv', '--config', await config('dcv-v6', 'acme')]);
    expect(human.stdout).toMatch(new RegExp(`Warning \\(validate, ${esc(DUAL)}\\): AAAA_UNREACHABLE: ${esc(finding('404'))}; the CA fetches over IPv6 when`));
    expect(human.stdout).toContain('2 of 3 name(s) passed local HTTP DCV.');
    expect(human.code).toBe(1);
    const json = await runCli(['dcv', '--config', await config('dcv-first', 'sectigo'), '--json']);
    const report = JSON.parse(json.stdout) as {
      addressPreference: string;
      passed: string[];
      validations: { name: string; ok: boolean; code?: string; reason?: string }[];
    };
    expect(report.addressPreference).toBe('first');
    expect(report.passed).toEqual([HOST, WWW]);
    expect(report.validations.find((v) => v.name === DUAL)).toMatchObject({
      ok: false,
      code: 'AAAA_UNREACHABLE',
      reason: expect.stringContaining('the first address decides'),
    });
  });

  it("with nothing listening on ::1: dropped when the AAAA address decides (generic ACME, first-address rule); kept with a warning by Let's Encrypt's retry", async () => {
    await lab.nginx6!.stop();
    const orders = lab.pebble.orderCount();
    const dropped = await runCli(['check', '--config', await config('v6-refused', 'acme')]);
    expect(dropped.stdout).toContain(
      `Local HTTP DCV error (${DUAL}): ${finding('connection refused')}; the CA fetches over IPv6 when the name has an AAAA record`,
    );
    expect(dropped.stdout).toMatch(
      new RegExp(`Warning \\(validate, ${esc(DUAL)}\\): AAAA_UNREACHABLE: ${esc(finding('connection refused'))}; .* → drop this name from the order`),
    );
    expect(dropped.stdout).toMatch(/installed a certificate from "acme" for cpanel, dovecot, exim, ftp/);
    expect(dropped.code).toBe(0);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    expect(await certifiedNames('v6-refused')).toEqual([HOST, WWW].sort());

    const first = await runCli(['check', '--config', await config('first-refused', 'sectigo')]);
    expect(first.stdout).toContain(`Local HTTP DCV error (${DUAL}): ${finding('connection refused')}; the first address decides`);
    expect(first.stdout).toMatch(/installed a certificate from "sectigo" for cpanel, dovecot, exim, ftp/);
    expect(await certifiedNames('first-refused')).toEqual([HOST, WWW].sort());

    // Let's Encrypt retries over IPv4 after a refused IPv6 connection: the name passes, with the warning line.
    // (Only the local check here: Pebble does not retry, and would fail the order over [::1].)
    const retry = await config('le-refused', 'acme', { addressPreference: 'ipv6-then-ipv4' });
    const human = await runCli(['dcv', '--config', retry]);
    expect(human.stdout).toContain(`Local HTTP DCV OK: ${DUAL}\n`);
    expect(human.stdout).toMatch(
      new RegExp(
        `Warning \\(validate, ${esc(DUAL)}\\): AAAA_UNREACHABLE: ${esc(finding('connection refused'))}; the CA retries over IPv4 after a failed IPv6 connection, so the name passes: .* → keep the name in the order`,
      ),
    );
    expect(human.stdout).toContain('3 of 3 name(s) passed local HTTP DCV.');
    expect(human.code).toBe(0);
    const json = await runCli(['dcv', '--config', retry, '--json']);
    const report = JSON.parse(json.stdout) as {
      addressPreference: string;
      passed: string[];
      validations: { name: string; ok: boolean; warnings?: { code: string; message: string }[] }[];
    };
    expect(report.addressPreference).toBe('ipv6-then-ipv4');
    expect(report.passed).toEqual([HOST, WWW, DUAL]);
    expect(report.validations.find((v) => v.name === DUAL)).toMatchObject({
      ok: true,
      warnings: [{ code: 'AAAA_UNREACHABLE', message: expect.stringContaining(finding('connection refused')) }],
    });
    expect(await readdir(lab.docroot)).toEqual([]);
  });
});
