// The name's addresses from every authoritative server, against the lab's BIND (the real iterative resolver from the
// lab root) and two nginx servers that both serve the docroot: files.test's secondary keeps an old address after the
// primary's zone changed under the same serial. For www.files.test the file is served whichever server a resolution
// reaches; dead.files.test's old address is one where nothing listens.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressPreference, Challenge, Target } from '@certsmith/core';
import { IterativeResolver, LOOPBACK_ONLY, authoritativeAddresses } from '@certsmith/dns';
import { labDir, makeStaleSecondary, randomLoopback, startDnsLab, startNginx, type DnsLab, type Nginx } from '@certsmith/testlab';
import { HttpFileDcv } from './http-file-dcv.js';

const target: Target = { id: 'hostname', names: [], services: [], kind: 'hostname' };

let lab: { path: string; cleanup: () => Promise<void> };
let dns: DnsLab;
const web: Nginx[] = [];
let dcv: HttpFileDcv;
const silent = randomLoopback();

beforeAll(async () => {
  lab = await labDir('dcv-http-servers');
  const docroot = join(lab.path, 'html');
  const started = await Promise.allSettled([
    startDnsLab(),
    startNginx({ address: randomLoopback(), sites: [{ serverNames: ['_'], docroot }] }),
    startNginx({ address: randomLoopback(), sites: [{ serverNames: ['_'], docroot }] }),
  ]);
  for (const result of started) if (result.status === 'fulfilled' && 'httpPort' in result.value) web.push(result.value);
  if (started[0].status === 'fulfilled') dns = started[0].value;
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [current, old] = web.map((n) => n.address) as [string, string];
  await dns.updateExampleZone([`update add agree.example.test. 60 IN A ${current}`]);
  await makeStaleSecondary(dns, {
    transferred: [`www     IN A   ${old}`, `dead    IN A   ${silent}`],
    primaryOnly: [`www     IN A   ${current}`, `dead    IN A   ${current}`],
  });
  const own = [current, old, silent];
  const resolver = new IterativeResolver({ rootHints: dns.rootHints, timeoutMs: 1_000, retries: 0, ownAddresses: own, addressPolicy: LOOPBACK_ONLY });
  dcv = new HttpFileDcv(
    {
      docroot,
      docroots: {},
      serverAddresses: own,
      ledgerDir: join(lab.path, 'state'),
      probeRedirects: 'none',
      limits: { connectTimeoutMs: 2_000, readTimeoutMs: 1_500, maxBodyBytes: 16 * 1024 },
    },
    resolver,
    undefined,
    (host, signal) => authoritativeAddresses(resolver, host, signal),
  );
}, 90_000);

afterAll(async () => {
  await dcv?.close();
  await Promise.all(web.map((n) => n.stop()));
  await dns?.stop();
  await lab?.cleanup();
});

function probe(name: string): Challenge {
  return { kind: 'probe', name, token: Buffer.from(name).toString('hex').slice(0, 32).padEnd(32, '0'), content: `probe for ${name}` };
}

async function check(name: string, addressPreference: AddressPreference) {
  const published = await dcv.publish(probe(name), target, AbortSignal.timeout(5_000));
  try {
    return await dcv.check(published, AbortSignal.timeout(20_000), { addressPreference });
  } finally {
    await dcv.cleanup(published);
  }
}

describe('HttpFileDcv asks every authoritative server for the name', () => {
  const lines = () => {
    const [current, old] = web.map((n) => n.address);
    return [`ns1.example.test (${dns.addresses.primary}) answers ${current}`, `ns2.example.test (${dns.addresses.secondary}) answers ${old}`];
  };

  it("'every' keeps a name whose servers give different addresses when every one of them serves the file, with a warning naming each server", async () => {
    const verdict = await check('www.files.test', 'every');
    expect(verdict).toMatchObject({ name: 'www.files.test', ok: true, warnings: [{ code: 'DNS_SERVERS_DISAGREE' }] });
    const { message } = verdict.warnings![0]!;
    expect(message).toMatch(/^www\.files\.test: ns[12]\.example\.test \(.*\) answers .* while ns[12]\.example\.test \(.*\) answers /);
    for (const line of lines()) expect(message).toContain(line);
    expect(message).toContain(
      "; every address they give passes today, but the CA may reach any of them: make every nameserver of files.test serve the same records (a secondary that kept an old copy: raise the zone's SOA serial on the primary so that it transfers)",
    );
  });

  it("'every' drops a name when an address one of its servers gives does not serve the file, naming the servers and the address", async () => {
    const verdict = await check('dead.files.test', 'every');
    expect(verdict).toMatchObject({ name: 'dead.files.test', ok: false, code: 'DNS_SERVERS_DISAGREE' });
    expect(verdict.reason).toContain(`ns2.example.test (${dns.addresses.secondary}) answers ${silent}`);
    expect(verdict.reason).toContain(`${silent} (A) refused the connection`);
    expect(verdict.reason).toContain('; the CA resolves from several network perspectives and may reach any of them: make every nameserver of files.test');
  });

  it('the other preferences keep the name the file proves, with the disagreement as a warning', async () => {
    for (const preference of ['first', 'ipv6', 'ipv6-then-ipv4'] as const) {
      const verdict = await check('www.files.test', preference);
      expect(verdict, preference).toMatchObject({ name: 'www.files.test', ok: true, warnings: [{ code: 'DNS_SERVERS_DISAGREE' }] });
      for (const line of lines()) expect(verdict.warnings![0]!.message).toContain(line);
      expect(verdict.warnings![0]!.message).toContain('a CA that resolves from several perspectives may reach another server');
    }
  });

  it("the dry run's precheck asks them too: 'every' drops the name an old address fails, keeps the other with a warning", async () => {
    const precheck = (name: string, addressPreference: AddressPreference) => dcv.precheck(name, target, AbortSignal.timeout(20_000), { addressPreference });
    expect(await precheck('dead.files.test', 'every')).toMatchObject({ name: 'dead.files.test', ok: false, code: 'DNS_SERVERS_DISAGREE' });
    expect(await precheck('www.files.test', 'every')).toMatchObject({ name: 'www.files.test', ok: true, warnings: [{ code: 'DNS_SERVERS_DISAGREE' }] });
    expect(await precheck('www.files.test', 'first')).toMatchObject({ name: 'www.files.test', ok: true, warnings: [{ code: 'DNS_SERVERS_DISAGREE' }] });
  });

  it('says nothing when every server gives the same addresses', async () => {
    expect(await check('agree.example.test', 'every')).toEqual({ name: 'agree.example.test', ok: true });
  });
});
