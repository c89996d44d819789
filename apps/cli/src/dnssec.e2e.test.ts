// DNSSEC end to end: the built CLI (`certsmith dcv`, full profile, dns.dnssec on) resolves names from the lab's signed
// BIND root with the lab's root DS as its trust anchor, and drops a name whose answer is bogus with the reason.
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNSSEC_LAB_NAMES as N, DNSSEC_LAB_ZONES as Z, labDir, runCli, startDnssecLab, type DnssecLab } from '@certsmith/testlab';

let lab: DnssecLab;
let dir: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  [lab, dir] = await Promise.all([startDnssecLab(), labDir('dnssec-e2e')]);
  await mkdir(join(dir.path, 'docroot'));
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  await dir?.cleanup();
});

async function config(file: string, hostname: string, dnssec: boolean, trustAnchor = lab.trustAnchorDsFile): Promise<string> {
  const path = join(dir.path, file);
  const settings = {
    profile: 'full',
    hostname,
    paths: { stateDir: `./state-${file}`, sslDir: `./ssl-${file}` },
    inspection: { live: false },
    // The insecure names resolve to the lab's zone server, which serves no HTTP: the check fails there, on loopback.
    server: { addresses: [lab.addresses.zones] },
    plugins: [{ module: '@certsmith/dcv-http', options: { docroot: './docroot', readTimeoutMs: 1_000 } }],
    dns: { rootHints: lab.rootHintsFile, port: 53, timeoutMs: 1_000, dnssec, trustAnchor },
  };
  await writeFile(path, JSON.stringify(settings, null, 2));
  return path;
}

describe('certsmith dcv with dns.dnssec against a signed BIND hierarchy', () => {
  it('drops a name whose RRSIGs expired, and says DNSSEC_BOGUS with the name, what failed and the server', async () => {
    const result = await runCli(['dcv', '--config', await config('expired.json', `www.${Z.expired}`, true)]);
    const when = lab.expiredAt.toISOString().replace('.000Z', 'Z');
    expect(result.stdout + result.stderr).toContain(`DNSSEC_BOGUS: ${Z.expired}: RRSIG over DNSKEY expired ${when} at ns1.zones.test`);
    expect(result.code).not.toBe(0);
    // The verdict's code says what it is: not a missing record, a signature the CA would refuse.
    const json = await runCli(['dcv', '--json', '--config', await config('expired-json.json', `www.${Z.expired}`, true)]);
    const { validations } = JSON.parse(json.stdout) as { validations: { name: string; ok: boolean; code?: string }[] };
    expect(validations).toContainEqual(expect.objectContaining({ name: `www.${Z.expired}`, ok: false, code: 'DNSSEC_BOGUS' }));
  });

  it('drops a name whose parent DS matches no key of its zone', async () => {
    const result = await runCli(['dcv', '--config', await config('wrongds.json', `www.${Z.wrongDs}`, true)]);
    expect(result.stdout + result.stderr).toMatch(/DNSSEC_BOGUS: wrongds\.test: no DNSKEY of wrongds\.test matches its DS \(key tag \d+\) at ns1\.zones\.test/);
  });

  it('reports an NXDOMAIN proved by NSEC3 as NXDOMAIN, and a denial its NSEC does not prove as bogus', async () => {
    const nx = await runCli(['dcv', '--config', await config('nx.json', `nx.${Z.nsec3}`, true)]);
    expect(nx.stdout + nx.stderr).toContain(`nx.${Z.nsec3} does not resolve (NXDOMAIN)`);
    expect(nx.stdout + nx.stderr).not.toContain('DNSSEC_BOGUS');
    const forged = await runCli(['dcv', '--config', await config('forged.json', `zz.${Z.noDenial}`, true)]);
    expect(forged.stdout + forged.stderr).toContain(`DNSSEC_BOGUS: zz.${Z.noDenial}: no NSEC proves that zz.${Z.noDenial} does not exist at ns1.zones.test`);
    expect(forged.code).toBe(1);
  });

  it('drops a name whose CNAME leads into a bogus zone, naming that zone', async () => {
    const result = await runCli(['dcv', '--config', await config('cname.json', N.toExpired, true)]);
    expect(result.stdout + result.stderr).toContain(`DNSSEC_BOGUS: ${Z.expired}: RRSIG over DNSKEY expired`);
  });

  it('resolves a name below an unsigned delegation that NSEC3 proves (insecure, not bogus)', async () => {
    const result = await runCli(['dcv', '--verbose', '--config', await config('nsec3-insecure.json', `www.${N.nsec3Insecure}`, true)]);
    const out = result.stdout + result.stderr;
    expect(out).not.toContain('DNSSEC_BOGUS');
    expect(out).not.toContain('does not resolve');
    expect(out).toContain(lab.addresses.zones);
  });

  it("resolves names in children served by their signed parent's own server (no referral): signed secure, unsigned insecure, no warning", async () => {
    for (const child of [N.sameServerSigned, N.sameServerUnsigned]) {
      const result = await runCli(['dcv', '--verbose', '--config', await config(`${child}.json`, `www.${child}`, true)]);
      const out = result.stdout + result.stderr;
      expect(out, child).not.toContain('DNSSEC_BOGUS');
      expect(out, child).not.toContain('DNSSEC_UNSUPPORTED');
      expect(out, child).not.toContain('does not resolve');
      expect(out, child).toContain(lab.addresses.zones);
    }
  });

  it("drops a name in a child on its parent's server when nothing proves its DS present or absent", async () => {
    const result = await runCli(['dcv', '--config', await config('unproved.json', `www.${N.sameServerUnproved}`, true)]);
    expect(result.stdout + result.stderr).toContain(`DNSSEC_BOGUS: ${N.sameServerUnproved}: DS could not be fetched: no server of nodenial.test. answered`);
    expect(result.code).toBe(1);
  });

  it('treats a zone signed with Ed448 as unsigned, with one warning naming the zone and the algorithm', async () => {
    const result = await runCli(['dcv', '--config', await config('ed448.json', `www.${Z.ed448}`, true)]);
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('certsmith: warning: DNSSEC_UNSUPPORTED:'));
    expect(warnings).toEqual([
      `certsmith: warning: DNSSEC_UNSUPPORTED: ${Z.ed448}: no DS of ${Z.ed448} that this validator can use (algorithm 16 digest 2) at ns1.test: the name is treated as unsigned (insecure), not bogus`,
    ]);
    expect(result.stdout + result.stderr).not.toContain('DNSSEC_BOGUS');
    expect(result.stdout + result.stderr).toContain(lab.addresses.zones);
  });

  it('refuses a trust anchor file that holds no DS or DNSKEY: one line naming it, exit 2, nothing written', async () => {
    const anchor = join(dir.path, 'not-an-anchor.pem');
    await writeFile(anchor, '-----BEGIN CERTIFICATE-----\nMIIB\n');
    const file = await config('bad-anchor.json', `www.${Z.good}`, true, anchor);
    const result = await runCli(['dcv', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `certsmith: DNSSEC_TRUST_ANCHOR_INVALID: ${anchor}: line 1: not a DS or DNSKEY record of the root (". IN DS <tag> <algorithm> <digest type> <hex>" or ". IN DNSKEY 257 3 <algorithm> <base64>"): -----BEGIN CERTIFICATE-----`,
    ]);
    expect(result.stdout).toBe('');
    await expect(access(join(dir.path, 'state-bad-anchor.json'))).rejects.toThrow(/ENOENT/);
  });

  it('without dns.dnssec, the same name resolves (no validation)', async () => {
    const result = await runCli(['dcv', '--config', await config('off.json', `www.${Z.expired}`, false)]);
    expect(result.stdout + result.stderr).not.toContain('DNSSEC_BOGUS');
  });
});
