// dns-persist-01 end to end: the built CLI on a DNS-only profile orders from the testlab's issuing ACME double, which
// offers dns-persist-01 (Pebble does not) and validates the standing _validation-persist TXT record on the lab's BIND.
// The first run publishes each name's record once (RFC 2136, TSIG); the second, a renewal, publishes nothing (the
// zone's serial stays); a name whose record binds another account is dropped by the pre-check before any order.
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli, startDnsLab, startIssuingAcmeDouble, type DnsLab, type IssuingAcmeDouble } from '@certsmith/testlab';

const ZONE = `pz-${randomBytes(3).toString('hex')}.example.test`;
const OK = [ZONE, `www.${ZONE}`];
const TAKEN = `taken.${ZONE}`;
const CA_NAME = 'double-ca.test';
const OTHER_ACCOUNT = 'https://other-ca.test/acct/9';

let dns: DnsLab;
let double: IssuingAcmeDouble;
let dir: { path: string; cleanup: () => Promise<void> };
let config: string;
/** The same server and state, with the names on the hostname target: what `certsmith dcv` checks. */
let hostConfig: string;

beforeAll(async () => {
  [dns, dir] = await Promise.all([startDnsLab(), labDir('dns-persist-e2e')]);
  // A day's certificates, 20 hours old when issued, and no ARI: the second run renews at once.
  double = await startIssuingAcmeDouble({
    lifetimeHours: 24,
    now: () => new Date(Date.now() - 20 * 3_600_000),
    ari: false,
    validation: { dnsPersist01: { issuerDomainNames: [CA_NAME], server: { address: dns.addresses.primary } } },
  });
  await copyFile(dns.tsigKeyFile, join(dir.path, 'tsig.key'));
  await chmod(join(dir.path, 'tsig.key'), 0o600);
  await copyFile(double.tlsCaFile, join(dir.path, 'double-ca.pem'));
  await dns.updateExampleZone([`update add _validation-persist.${TAKEN}. 60 TXT "${CA_NAME}; accounturi=${OTHER_ACCOUNT}"`]);
  config = join(dir.path, 'config.json');
  hostConfig = join(dir.path, 'host.json');
  const fields = {
    profile: 'dnsonly',
    paths: { stateDir: './state', sslDir: './ssl' },
    inspection: { live: false },
    services: { cpanel: false },
    plugins: [
      { module: '@certsmith/dcv-dns', options: { tsigKeyFile: './tsig.key' } },
      {
        module: '@certsmith/issuer-acme',
        options: {
          directoryUrl: double.directoryUrl,
          caFile: './double-ca.pem',
          issuerPatterns: [double.issuerPattern],
          caaIdentities: [CA_NAME],
          challengeTypes: ['dns-persist-01', 'dns-01'],
        },
      },
      { module: '@certsmith/installer-files' },
    ],
    issuers: ['acme', 'selfsigned'],
    dns: { rootHints: dns.rootHintsFile, port: 53, timeoutMs: 1_000 },
  };
  const site = { hostname: `host.${ZONE}`, targets: [{ id: 'site', names: [...OK, TAKEN], services: ['files'] }] };
  await writeFile(config, JSON.stringify({ ...fields, ...site }));
  await writeFile(hostConfig, JSON.stringify({ ...fields, hostname: OK[0], names: [OK[1], TAKEN] }));
}, 120_000);

afterAll(async () => {
  await double?.stop();
  await dns?.stop();
  await dir?.cleanup();
});

const env = () => ({ SSL_CERT_FILE: double.rootFile });
const standing = (name: string) => dns.dig(dns.addresses.primary, `_validation-persist.${name}`, 'TXT');
const answeredPersist = () => double.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/chall/')).length;

describe('dns-persist-01 through certsmith check', { timeout: 120_000 }, () => {
  it('publishes each standing record once and issues; a renewal publishes nothing; a name another account holds is never ordered', async () => {
    const first = await runCli(['check', '--config', config], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(`DNS_PERSIST_OTHER_ACCOUNT: the standing record _validation-persist.${TAKEN}.`);
    expect(first.stdout).toContain(`binds ${CA_NAME} to another account (${OTHER_ACCOUNT}), not this issuer (no account registered yet)`);
    expect(first.stdout).toMatch(/Issued by "acme": certificate for /);
    expect(first.code).toBe(0);
    expect(double.orders()).toEqual([{ identifiers: OK.map((value) => ({ type: 'dns', value })) }]);
    expect(answeredPersist()).toBe(2);
    const account = ((JSON.parse(await readFile(join(dir.path, 'state', 'issuers', 'acme', 'account.json'), 'utf8')) as { url: string }).url ?? '') as string;
    expect(account).toMatch(/^https:\/\/127\./);
    for (const name of OK) expect(await standing(name)).toBe(`"${CA_NAME}; accounturi=${account}"`);
    expect(await standing(TAKEN)).toBe(`"${CA_NAME}; accounturi=${OTHER_ACCOUNT}"`);

    const serial = await dns.serial(dns.addresses.primary, 'example.test');
    const second = await runCli(['check', '--config', config, '--verbose'], { env: env() });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Issued by "acme": certificate for /);
    expect(second.stdout).toContain(`the standing record _validation-persist.${OK[1]}. binds ${account} for ${CA_NAME}`);
    expect(second.stdout).toContain(`not ${account}`);
    // Nothing new in the zone: no record, no probe (the serial of the RFC 2136 updates stays), and no DCV record created.
    expect(await dns.serial(dns.addresses.primary, 'example.test')).toBe(serial);
    expect(second.stdout).not.toMatch(/DCV \(dns-txt\) for/);
    expect(double.orders()).toHaveLength(2);
    expect(answeredPersist()).toBe(4);
    expect(double.issued()).toHaveLength(2);
    for (const name of OK) expect(await standing(name)).toBe(`"${CA_NAME}; accounturi=${account}"`);

    // certsmith dcv shows each name's standing record, and why the held one fails; it publishes nothing either.
    const dcv = await runCli(['dcv', '--config', hostConfig, '--json'], { env: env() });
    expect(dcv.stderr).toBe('');
    expect(dcv.code).toBe(1);
    const report = JSON.parse(dcv.stdout) as {
      standing: unknown;
      passed: string[];
      validations: { name: string; ok: boolean; code?: string; reason?: string }[];
    };
    expect(report.standing).toEqual({ issuerDomainNames: [CA_NAME], accountUri: account });
    expect(report.passed).toEqual(OK);
    const dcvOf = (name: string) => report.validations.find((v) => v.name === name && !v.reason?.includes('CAA'));
    for (const name of OK)
      expect(dcvOf(name)).toEqual({
        name,
        ok: true,
        via: 'example.test',
        reason: `the standing record _validation-persist.${name}. binds ${account} for ${CA_NAME}`,
      });
    expect(dcvOf(TAKEN)).toEqual({
      name: TAKEN,
      ok: false,
      via: 'example.test',
      code: 'DNS_PERSIST_OTHER_ACCOUNT',
      reason: expect.stringContaining(`binds ${CA_NAME} to another account (${OTHER_ACCOUNT}), not ${account}: change or remove it`),
    });
    expect(await dns.serial(dns.addresses.primary, 'example.test')).toBe(serial);
  });
});
