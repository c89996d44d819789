// The proof's lab builds each fault as meant (BIND, both Unbounds, the nginxes), and the issuing double's CA checks
// judge them as a CA does: checkAsCa called directly, without Pebble or an order.
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAsCa, type IssuingAcmeDoubleCaChecks } from './issuing-acme-double-ca-checks.js';
import { IPV6_LOOPBACK } from './ipv6-loopback.js';
import { PROOF_CAA_IDENTITY, startProofLab, type ProofLab } from './proof-lab.js';

let lab: ProofLab;
const named = (label: string) => lab.names.find((n) => n.name.startsWith(`${label}.`) || n.name === label)!.name;

beforeAll(async () => {
  lab = await startProofLab({ cas: false });
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

/** HTTP status of GET path on address with the name as Host, and its Location. */
function get(address: string, name: string, path: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, family: address.includes(':') ? 6 : 4, port: 80, path, headers: { host: name } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the proof lab', () => {
  it('has at least ten kinds of fault and control names, each name once', () => {
    const kinds = new Set(lab.names.map((n) => n.kind));
    expect(kinds.has('control')).toBe(true);
    expect(kinds.size - 1).toBeGreaterThanOrEqual(10);
    expect(new Set(lab.names.map((n) => n.name)).size).toBe(lab.names.length);
  });

  it('builds the DNS faults in the web tree, as its resolver answers them, and binds an account where meant', async () => {
    const web = (name: string, type: string) => lab.resolve('web', name, type);
    expect(await web(named('gone'), 'A')).toContain('status: NXDOMAIN');
    const split = (await web(named('split'), 'A')).match(/IN\s+A\s+\S+/g) ?? [];
    expect(split).toHaveLength(2);
    expect(split.map((line) => line.split(/\s+/)[2])).toContain(lab.serverAddresses[0]);
    expect(await web(named('dual'), 'AAAA')).toMatch(/IN\s+AAAA\s+::1/);
    expect(await web(named('shop'), 'CAA')).toContain('0 issue "other-ca.example"');
    expect(await web(named('alias'), 'CAA')).toMatch(/CNAME[\s\S]*0 issue "other-ca.example"/);
    expect(await web(`_validation-persist.${named('persist-other')}`, 'TXT')).toContain(`"${PROOF_CAA_IDENTITY}; accounturi=https://elsewhere.example/acct/9"`);
    expect(await web(`_validation-persist.${named('persist-ok')}`, 'TXT')).not.toContain('TXT');
    await lab.bindAccount('https://ca.example/acct/1');
    expect(await web(`_validation-persist.${named('persist-ok')}`, 'TXT')).toContain(`"${PROOF_CAA_IDENTITY}; accounturi=https://ca.example/acct/1"`);
    const { primary, secondary } = lab.acme.dns.addresses;
    for (const name of ['www.files.test', 'old.files.test'])
      expect(await lab.acme.dns.dig(primary, name, 'A')).not.toBe(await lab.acme.dns.dig(secondary, name, 'A'));
  });

  it('builds the HTTP faults: 404s, redirects, and ::1 that serves nothing', async () => {
    const [web] = lab.serverAddresses;
    await mkdir(join(lab.docroot, '.well-known', 'acme-challenge'), { recursive: true });
    await writeFile(join(lab.docroot, '.well-known', 'acme-challenge', 'probe'), 'probe');
    const path = '/.well-known/acme-challenge/probe';
    expect((await get(web!, named('www'), path)).status).toBe(200);
    expect((await get(web!, named('missing'), path)).status).toBe(404);
    expect((await get(web!, named('other-root'), path)).status).toBe(404);
    expect(await get(web!, named('to-host'), path)).toMatchObject({ status: 301, location: `http://${lab.names[0]!.name}${path}` });
    expect((await get(IPV6_LOOPBACK, named('dual'), path)).status).toBe(404);
  });

  it('makes the bogus names of the signed tree SERVFAIL at the validating resolver, and points the others at this server', async () => {
    const signed = lab.names.filter((n) => n.world === 'dnssec');
    expect(signed.filter((n) => n.kind === 'DNSSEC bogus')).toHaveLength(6);
    expect(signed.filter((n) => n.kind === 'DNSSEC secure/insecure')).toHaveLength(10);
    for (const { name, kind } of signed) {
      const answer = await lab.resolve('dnssec', name, 'A');
      if (kind === 'DNSSEC bogus') expect(answer, name).toContain('status: SERVFAIL');
      else {
        expect(answer, name).toContain('status: NOERROR');
        expect(
          [...answer.matchAll(/\sIN\s+A\s+(\S+)/g)].map((m) => m[1]),
          name,
        ).toEqual([lab.serverAddresses[0]]);
      }
    }
  });

  it('the validating resolver judges secure what is signed to the answer, and insecure what is below an unsigned cut', async () => {
    const ad = async (name: string) => /flags:[^;]* ad/.test(await lab.resolve('dnssec', name, 'A'));
    for (const name of ['www.good.test', 'www.wild.good.test', 'www.wild.nsec3.test', 'to-rsa.good.test', 'www.sub.good.test'])
      expect(await ad(name), name).toBe(true);
    for (const name of ['to-insecure.good.test', 'www.unsigned.nsec3.test', 'www.unsigned.optout.test', 'www.plain.good.test'])
      expect(await ad(name), name).toBe(false);
  });

  it("the double's CA checks validate the controls and refuse each fault, saying why", async () => {
    const token = 'proof-token';
    const keyAuthorization = `${token}.thumbprint`;
    await mkdir(join(lab.docroot, '.well-known', 'acme-challenge'), { recursive: true });
    await writeFile(join(lab.docroot, '.well-known', 'acme-challenge', token), keyAuthorization);
    const options = (world: 'web' | 'dnssec'): IssuingAcmeDoubleCaChecks => ({
      checks: ['caa', 'perspectives'],
      resolver: lab[world].resolver,
      caaIdentity: PROOF_CAA_IDENTITY,
    });
    const verdict = (name: string, world: 'web' | 'dnssec' = 'web') =>
      checkAsCa(options(world), { name, token, keyAuthorization, accountUri: 'https://ca.example/acct/1' });
    for (const label of ['www', 'caa-ok', 'http-ok', 'to-host', 'www.files.test']) expect(await verdict(named(label)), label).toBeNull();
    expect(await verdict(named('gone'))).toMatch(/no A or AAAA record/);
    expect(await verdict(named('missing'))).toMatch(/answered HTTP 404/);
    expect(await verdict(named('off-host'))).toMatch(/whose host does not resolve/);
    expect(await verdict(named('shop'))).toMatch(/^CAA at shop\./);
    expect(await verdict(named('crit'))).toMatch(/critical unknown property/);
    expect(await verdict(named('alias'))).toMatch(/^CAA at alias\./);
    expect(await verdict(named('elsewhere'))).toMatch(/accounturi|does not let/);
    expect(await verdict(named('dns-only'))).toMatch(/does not let/);
    expect(await verdict(named('split'))).toMatch(/cannot fetch/);
    expect(await verdict('old.files.test')).toMatch(/from ns2\.example\.test/);
    expect(await verdict(named('dual'))).toMatch(/404 \(address ::1/);
    expect(await verdict('www.expired.test', 'dnssec')).toMatch(/^DNS: .*SERVFAIL/);
    expect(await verdict('www.hidden.nodenial.test', 'dnssec')).toMatch(/^DNS: .*SERVFAIL/);
    for (const name of ['www.wild.nsec3.test', 'www.unsigned.nsec3.test', 'www.unsigned.optout.test']) expect(await verdict(name, 'dnssec'), name).toBeNull();
  });
});
