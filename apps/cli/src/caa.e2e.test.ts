// CAA in the pre-order proof, end to end: the built CLI climbs each name's CAA records through the lab's BIND (from
// the lab root), drops the names whose CAA forbids the issuer (CAA_FORBIDS, in the human log and in --json), and
// Debian's Pebble issues for the rest, fetching http-01 from nginx. The last test orders a forbidden name with the
// check turned off, to see what Pebble itself does about CAA.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomLoopback, run, runCli, startAcmeLab, type AcmeLab } from '@certsmith/testlab';

const HOST = `caa-${randomBytes(3).toString('hex')}.example.test`;
/** The CAA identity the tests give the Pebble issuer (Pebble has none of its own: it does not check CAA). */
const PEBBLE_CAA = 'pebble.test';
const WWW = `www.${HOST}`; // no CAA of its own: its parent HOST allows pebble.test
const SHOP = `shop.${HOST}`; // issue "other-ca.example": forbidden
const CRIT = `crit.${HOST}`; // allows pebble.test, but a critical unknown tag forbids
const ALIAS = `alias.${HOST}`; // CNAME to SHOP: SHOP's CAA applies
const BAD = `bad.${HOST}`; // issue "%%%%%": malformed, names no CA
/** RFC 8657: bound to the lab account (record added once it exists), to another account, to dns-01 only. */
const BOUND = `bound.${HOST}`;
const ELSEWHERE = `elsewhere.${HOST}`;
const DNS_ONLY = `dns-only.${HOST}`;
/** A zone of its own (the dynamic example.test refuses RRsets of over 100 records): 300 CAA records, none ours. */
const HUGE_ZONE = `caa-${randomBytes(3).toString('hex')}.test`;
const HUGE = `huge.${HUGE_ZONE}`;
const HUGE_RECORDS = 300;
const NAMES = [WWW, SHOP, CRIT, ALIAS, BAD, HUGE];

let lab: AcmeLab;

beforeAll(async () => {
  const web = randomLoopback();
  const hugeZone = `$TTL 60
@     IN SOA ns1.example.test. hostmaster.${HUGE_ZONE}. 1 300 60 86400 30
@     IN NS  ns1.example.test.
huge  IN A   ${web}
${Array.from({ length: HUGE_RECORDS }, (_, i) => `huge  IN CAA 0 issue "ca-${i}.example"`).join('\n')}
`;
  lab = await startAcmeLab({
    name: 'caa-e2e',
    webAddress: web,
    webNames: [HOST, ...NAMES, BOUND, ELSEWHERE, DNS_ONLY],
    pointedNames: [HOST, WWW, SHOP, CRIT, BAD, BOUND, ELSEWHERE, DNS_ONLY],
    extraZones: { [HUGE_ZONE]: hugeZone },
    records: [
      `update add ${BAD}. 60 IN CAA 0 issue "%%%%%"`,
      `update add ${ALIAS}. 60 IN CNAME ${SHOP}.`,
      `update add ${HOST}. 60 IN CAA 0 issue "${PEBBLE_CAA}"`,
      `update add ${SHOP}. 60 IN CAA 0 issue "other-ca.example"`,
      `update add ${CRIT}. 60 IN CAA 0 issue "${PEBBLE_CAA}"`,
      `update add ${CRIT}. 60 IN CAA 128 tbs "unknown"`,
      `update add ${ELSEWHERE}. 60 IN CAA 0 issue "${PEBBLE_CAA}; accounturi=https://elsewhere.example/acct/9"`,
      `update add ${DNS_ONLY}. 60 IN CAA 0 issue "${PEBBLE_CAA}; validationmethods=dns-01"`,
    ],
  });
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

/** A config in its own sandbox; returns its path. */
async function config(name: string, fields: { hostname?: string; names?: string[]; caaIdentities?: string[] } = {}): Promise<string> {
  return lab.writeConfig(name, {
    profile: 'full',
    hostname: fields.hostname ?? HOST,
    names: fields.names ?? NAMES,
    plugins: [
      lab.httpDcvPlugin,
      {
        module: '@certsmith/issuer-acme',
        options: { ...(await lab.acmeIssuerOptions(name)), issuerPatterns: ['Pebble'], caaIdentities: fields.caaIdentities ?? [PEBBLE_CAA] },
      },
    ],
    issuers: ['acme', 'selfsigned'],
  });
}

/** The DNS names of an installed certificate. */
async function namesIn(certFile: string): Promise<string[]> {
  const out = await run('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName']);
  expect(out.code, out.stderr).toBe(0);
  return [...out.stdout.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]!).sort();
}

/** The names of a certificate file, or null when there is no such file (a dry run writes none). */
async function namesInOrNull(certFile: string): Promise<string[] | null> {
  const exists = await run('test', ['-e', certFile]);
  return exists.code === 0 ? namesIn(certFile) : null;
}

interface JsonReport {
  targets: {
    result: string;
    validations: { name: string; ok: boolean; method: string; reason?: string }[];
    failures: { code: string; name?: string; issuer?: string; message: string; stage: string; severity: string; next: string }[];
    issued?: { status: string; issuer: string };
  }[];
}

describe('certsmith check: CAA in the pre-order proof (BIND, Pebble, nginx)', { timeout: 120_000 }, () => {
  it('drops the names whose CAA forbids the issuer, says why, and gets the certificate for the rest', async () => {
    const orders = lab.pebble.orderCount();
    const result = await runCli(['check', '--config', await config('human'), '--verbose']);
    expect(result.stderr).toBe('');
    // Every name passed local DCV (nginx serves them all); CAA then decides.
    for (const name of [HOST, ...NAMES]) expect(result.stdout).toContain(`Local HTTP DCV OK: ${name}\n`);
    expect(result.stdout).toContain(`  CAA: CAA_FORBIDS: ${SHOP} (0 issue "other-ca.example" at ${SHOP}): no issue property names ${PEBBLE_CAA}\n`);
    expect(result.stdout).toContain(
      `  Warning (validate, issuer acme, ${SHOP}): CAA_FORBIDS: ${SHOP} (0 issue "other-ca.example" at ${SHOP}) → drop this name from the order\n`,
    );
    expect(result.stdout).toContain(
      `  CAA: CAA_FORBIDS: ${CRIT} (128 tbs "unknown" at ${CRIT}): a critical property that no CA understands forbids issuance\n`,
    );
    expect(result.stdout).toContain(
      `  CAA: CAA_FORBIDS: ${ALIAS} (0 issue "other-ca.example" at ${SHOP} (CNAME from ${ALIAS})): no issue property names ${PEBBLE_CAA}\n`,
    );
    expect(result.stdout).toContain(`  CAA: CAA_FORBIDS: ${BAD} (0 issue "%%%%%" at ${BAD}): no issue property names ${PEBBLE_CAA}\n`);
    // Too many records to read: the name stays, with a warning; the CA checks CAA itself.
    expect(result.stdout).toContain(
      `  Warning (validate, issuer acme, ${HUGE}): CAA_LOOKUP_FAILED: the CAA check of ${HUGE} for "acme" could not be made (the CAA RRset at ${HUGE} has ${HUGE_RECORDS} records; only the first 256 were read, so it cannot be decided here) → keep this name in the order; the CA checks CAA itself and decides\n`,
    );
    // --verbose: what CAA allowed, and where it found the record (www inherits its parent's).
    expect(result.stdout).toContain(`  CAA OK: ${HOST} ("acme" may issue: issue names this CA (0 issue "${PEBBLE_CAA}" at ${HOST}))\n`);
    expect(result.stdout).toContain(`  CAA OK: ${WWW} ("acme" may issue: issue names this CA (0 issue "${PEBBLE_CAA}" at ${HOST}))\n`);
    expect(result.stdout).toMatch(/installed a certificate from "acme" for cpanel, dovecot, exim, ftp/);
    expect(result.code).toBe(0);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    // HUGE too: Pebble does not check CAA (see the last test).
    expect(await namesIn(join(lab.dir, 'ssl-human', 'dovecot', 'mydovecot.crt'))).toEqual([HOST, WWW, HUGE].sort());
  });

  it('--json carries the CAA verdicts in validations and CAA_FORBIDS in failures', async () => {
    const result = await runCli(['check', '--config', await config('json'), '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as JsonReport;
    const target = report.targets[0]!;
    expect(target.result).toBe('replaced');
    const caa = target.validations.filter((v) => v.method === 'caa').sort((a, b) => a.name.localeCompare(b.name));
    expect(Object.fromEntries(caa.map((v) => [v.name, v.ok]))).toEqual({
      [HOST]: true,
      [WWW]: true,
      [SHOP]: false,
      [CRIT]: false,
      [ALIAS]: false,
      [BAD]: false,
    });
    expect(target.failures.find((f) => f.name === HUGE)).toMatchObject({ code: 'CAA_LOOKUP_FAILED', severity: 'warning' });
    expect(caa.find((v) => v.name === SHOP)?.reason).toBe(
      `CAA_FORBIDS: ${SHOP} (0 issue "other-ca.example" at ${SHOP}): no issue property names ${PEBBLE_CAA}`,
    );
    expect(
      target.failures
        .filter((f) => f.code === 'CAA_FORBIDS')
        .map((f) => f.name)
        .sort(),
    ).toEqual([ALIAS, BAD, CRIT, SHOP].sort());
    expect(target.failures.find((f) => f.name === SHOP)).toEqual({
      stage: 'validate',
      target: 'hostname',
      name: SHOP,
      issuer: 'acme',
      code: 'CAA_FORBIDS',
      severity: 'warning',
      message: `${SHOP} (0 issue "other-ca.example" at ${SHOP})`,
      next: 'drop this name from the order',
    });
    expect(target.issued).toMatchObject({ status: 'issued', issuer: 'acme' });
  });

  it('skips the issuer when CAA forbids the primary name: the self-signed fallback, and Pebble is never asked', async () => {
    const orders = lab.pebble.orderCount();
    const result = await runCli(['check', '--config', await config('primary', { hostname: SHOP, names: [WWW] })]);
    expect(result.stdout).toContain(`  CAA: CAA_FORBIDS: ${SHOP} (0 issue "other-ca.example" at ${SHOP})`);
    expect(result.stdout).toContain(
      `  Warning (validate, issuer acme): CAA_PRIMARY_FORBIDDEN: CAA forbids "acme" to issue for the primary name ${SHOP} → try issuer "selfsigned"\n`,
    );
    expect(result.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    expect(lab.pebble.orderCount()).toBe(orders);
  });

  it('--dry-run reads CAA too: says which names the order would leave out, writes nothing, asks Pebble nothing', async () => {
    const orders = lab.pebble.orderCount();
    const result = await runCli(['check', '--dry-run', '--config', await config('dry', { names: [WWW, SHOP] })]);
    expect(result.stdout).toContain(`  CAA: CAA_FORBIDS: ${SHOP} (0 issue "other-ca.example" at ${SHOP}): no issue property names ${PEBBLE_CAA}\n`);
    expect(result.stdout).toContain(`would issue a certificate for ${HOST}, ${WWW} (issuers: acme → selfsigned)`);
    expect(result.stdout).toContain(`would leave out of the "acme" order, as CAA forbids them: ${SHOP}`);
    expect(lab.pebble.orderCount()).toBe(orders);
    const json = await runCli(['check', '--dry-run', '--json', '--config', await config('dry-json', { names: [WWW, SHOP] })]);
    const target = (JSON.parse(json.stdout) as JsonReport).targets[0]!;
    expect(target.result).toBe('planned');
    expect(target.failures.map((f) => [f.code, f.name])).toEqual([['CAA_FORBIDS', SHOP]]);
    expect(await namesInOrNull(join(lab.dir, 'ssl-dry', 'dovecot', 'mydovecot.crt'))).toBeNull();
  });

  it('--dry-run with the primary name forbidden: says the issuer would be skipped', async () => {
    const result = await runCli(['check', '--dry-run', '--config', await config('dry-primary', { hostname: SHOP, names: [WWW] })]);
    expect(result.stdout).toContain(
      `  Warning (validate, issuer acme): CAA_PRIMARY_FORBIDDEN: CAA forbids "acme" to issue for the primary name ${SHOP} → try issuer "selfsigned"\n`,
    );
    expect(result.stdout).toContain(`would not order from "acme": CAA forbids it (see the warnings); the run would try issuer "selfsigned"`);
  });

  it('certsmith dcv: the CAA check after local DCV, in the log, in --json and in the exit code', async () => {
    const file = await config('dcv', { names: [WWW, SHOP] });
    const human = await runCli(['dcv', '--config', file]);
    expect(human.stdout).toContain('3 of 3 name(s) passed local HTTP DCV.\n');
    expect(human.stdout).toContain(`  CAA: CAA_FORBIDS: ${SHOP} (0 issue "other-ca.example" at ${SHOP}): no issue property names ${PEBBLE_CAA}\n`);
    expect(human.stdout).toContain('CAA allows "acme" 2 of 3 of them.\n');
    expect(human.code).toBe(1);
    const json = await runCli(['dcv', '--json', '--config', file]);
    expect(JSON.parse(json.stdout)).toMatchObject({ passed: [HOST, WWW, SHOP], caa: { issuer: 'acme', allowed: [HOST, WWW] } });
    expect(json.code).toBe(1);
    const allowed = await runCli(['dcv', '--config', await config('dcv-ok', { names: [WWW] })]);
    expect(allowed.stdout).toContain('CAA allows "acme" 2 of 2 of them.\n');
    expect(allowed.code).toBe(0);
  });

  it('RFC 8657: a CA bound to another account or to dns-01 only is dropped with the record; bound to its own account it issues', async () => {
    const file = await config('bound', { names: [WWW] });
    // The first run registers the account at Pebble; its URL is then put in a CAA record.
    expect((await runCli(['check', '--config', file])).code).toBe(0);
    const account = (JSON.parse(await readFile(join(lab.dir, 'state-bound', 'issuers', 'acme', 'account.json'), 'utf8')) as { url: string }).url;
    expect(account).toMatch(/^https:\/\//);
    await lab.dns.updateExampleZone([`update add ${BOUND}. 60 IN CAA 0 issue "${PEBBLE_CAA}; accounturi=${account}"`]);
    const bound = await config('bound', { names: [WWW, BOUND, ELSEWHERE, DNS_ONLY] });
    const dcv = await runCli(['dcv', '--config', bound]);
    expect(dcv.stdout).toContain(
      `  CAA: CAA_FORBIDS: ${ELSEWHERE} (0 issue "${PEBBLE_CAA}; accounturi=https://elsewhere.example/acct/9" at ${ELSEWHERE}): issue names this CA, but accounturi binds it to the account https://elsewhere.example/acct/9; this issuer's account is ${account}\n`,
    );
    expect(dcv.stdout).toContain(
      `  CAA: CAA_FORBIDS: ${DNS_ONLY} (0 issue "${PEBBLE_CAA}; validationmethods=dns-01" at ${DNS_ONLY}): issue names this CA, but validationmethods allows dns-01 only; this issuer validates with http-01 (the name is proved over HTTP)\n`,
    );
    expect(dcv.stdout).toContain('CAA allows "acme" 3 of 5 of them.\n');
    const check = await runCli(['check', '--config', bound]);
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/installed a certificate from "acme"/);
    expect(await namesIn(join(lab.dir, 'ssl-bound', 'dovecot', 'mydovecot.crt'))).toEqual([HOST, WWW, BOUND].sort());
  });

  it('RFC 8657: validationmethods=dns-01 lets a name the run proves over DNS and validates with dns-01 (dnsonly profile)', async () => {
    const file = await lab.writeConfig('dns-bound', {
      profile: 'dnsonly',
      hostname: HOST,
      names: [DNS_ONLY],
      plugins: [
        { module: '@certsmith/dcv-dns', options: { tsigKeyFile: await lab.copyTsigKey() } },
        {
          module: '@certsmith/issuer-acme',
          options: { ...(await lab.acmeIssuerOptions('dns-bound')), issuerPatterns: ['Pebble'], caaIdentities: [PEBBLE_CAA] },
        },
      ],
      issuers: ['acme', 'selfsigned'],
      server: undefined,
    });
    const dcv = await runCli(['dcv', '--config', file, '--verbose']);
    expect(dcv.stdout).toContain(
      `CAA OK: ${DNS_ONLY} ("acme" may issue: issue names this CA (0 issue "${PEBBLE_CAA}; validationmethods=dns-01" at ${DNS_ONLY}))`,
    );
    const check = await runCli(['check', '--config', file]);
    expect(check.stderr).toBe('');
    expect(check.stdout).not.toContain('CAA_FORBIDS');
    expect(check.stdout).toMatch(/installed a certificate from "acme"/);
    expect(await namesIn(join(lab.dir, 'ssl-dns-bound', 'cpanel', 'mycpanel.pem'))).toEqual([HOST, DNS_ONLY].sort());
  });

  it("with no CAA identity the check is off (said with --verbose), and Debian's Pebble 2.4 then issues for a name CAA forbids: it does not enforce CAA", async () => {
    const orders = lab.pebble.orderCount();
    const result = await runCli(['check', '--config', await config('unchecked', { names: [SHOP, CRIT], caaIdentities: [] }), '--verbose']);
    expect(result.stdout).toContain(`  CAA OK: ${SHOP} (not checked: issuer "acme" names no CAA identity (its caaIdentities option))\n`);
    expect(result.stdout).not.toContain('CAA_FORBIDS');
    expect(result.stdout).toMatch(/installed a certificate from "acme"/);
    expect(result.code).toBe(0);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    // Pebble's VA asked the lab's BIND (its -dnsserver), where SHOP says issue "other-ca.example" and CRIT has a
    // critical unknown tag; a CA that enforced RFC 8659 would have refused both. Pebble signed them.
    expect(await namesIn(join(lab.dir, 'ssl-unchecked', 'dovecot', 'mydovecot.crt'))).toEqual([HOST, SHOP, CRIT].sort());
    expect(await lab.dns.dig(lab.dns.addresses.primary, SHOP, 'CAA')).toBe('0 issue "other-ca.example"');
  });
});
