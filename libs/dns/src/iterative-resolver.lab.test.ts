// The resolver against real BIND servers: a fake root, a TLD and authoritative servers on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsLab, type DnsLab } from '@certsmith/testlab';
import { IterativeResolver } from './iterative-resolver.js';
import { txtValue } from './wire.js';

describe('IterativeResolver against the lab hierarchy', () => {
  let lab: DnsLab;
  let resolver: IterativeResolver;
  const signal = () => AbortSignal.timeout(20_000);
  beforeAll(async () => {
    lab = await startDnsLab({ slowDelayMs: 300 });
    resolver = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0 });
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('follows referrals with glue from the root, AAAA first, and keeps the delegation path', async () => {
    const r = await resolver.resolveAddresses('Host.Example.Test.', signal());
    expect(r.outcome).toBe('ok');
    expect(r.addresses).toEqual(['2001:db8::10', '192.0.2.10']);
    expect(r.chosen).toBe('2001:db8::10');
    expect(r.path[0]).toBe(`a.root. (${lab.addresses.root}): referral to test. (ns1.test.)`);
    // BIND rotates the order of the NS set.
    expect(r.path.join('\n')).toMatch(
      /referral to example\.test\. \((ns1\.example\.test\., ns2\.example\.test\.|ns2\.example\.test\., ns1\.example\.test\.)\)/,
    );
  });

  it('answers from its cache within the TTL, without asking again', async () => {
    await resolver.resolveAddresses('v4only.example.test', signal());
    const before = { ...resolver.stats };
    const again = await resolver.resolveAddresses('v4only.example.test', signal());
    expect(again.addresses).toEqual(['192.0.2.11']);
    expect(resolver.stats.udp).toBe(before.udp);
  });

  it('chases CNAME chains, also into a zone with a glueless delegation', async () => {
    const chain = await resolver.resolveAddresses('alias1.example.test', signal());
    expect(chain.outcome).toBe('ok');
    expect(chain.cnames).toEqual(['alias2.example.test', 'www.example.test', 'host.example.test']);
    expect(chain.chosen).toBe('2001:db8::10');
    const cross = await resolver.resolveAddresses('cross.example.test', signal());
    expect(cross.outcome).toBe('ok');
    expect(cross.addresses).toEqual(['192.0.2.30']);
    expect(cross.path.join('\n')).toContain('resolved glueless ns.hosts.example.test.');
  });

  it('keeps NXDOMAIN and NODATA apart from failures', async () => {
    const nx = await resolver.resolveAddresses('nope.example.test', signal());
    expect(nx.outcome).toBe('nxdomain');
    const nodata = await resolver.lookup('v4only.example.test', 'AAAA', signal());
    expect(nodata.outcome).toBe('nodata');
    expect(nodata.zone).toBe('example.test');
    const tldNx = await resolver.resolveAddresses('nothing.test', signal());
    expect(tldNx.outcome).toBe('nxdomain');
  });

  it("refuses a private answer unless it is one of the server's own addresses", async () => {
    const r = await resolver.resolveAddresses('private.example.test', signal());
    expect(r.outcome).toBe('error');
    expect(r.detail).toMatch(/10\.1\.2\.3, a private or loopback address/);
    const own = new IterativeResolver({ rootHints: lab.rootHints, ownAddresses: ['10.1.2.3'] });
    expect((await own.resolveAddresses('private.example.test', signal())).outcome).toBe('ok');
  });

  it('moves on from a lame server and fails by name when every server is lame', async () => {
    const lame = await resolver.resolveAddresses('www.lame.test', signal());
    expect(lame.outcome).toBe('ok');
    expect(lame.addresses).toEqual(['192.0.2.40']);
    const dead = await resolver.resolveAddresses('www.dead.test', signal());
    expect(dead.outcome).toBe('servfail');
    expect(dead.detail).toContain(`ns1.dead.test. (${lab.addresses.secondary}): REFUSED`);
  });

  it('retries over TCP when the answer is truncated', async () => {
    const tcpBefore = resolver.stats.tcp;
    const big = await resolver.lookup('big.test', 'TXT', signal());
    expect(big.outcome).toBe('ok');
    expect(big.records).toHaveLength(40);
    expect(big.records.map(txtValue).sort()[0]).toMatch(/^00-x+$/);
    expect(resolver.stats.tcp).toBeGreaterThan(tcpBefore);
    expect(big.path.join('\n')).toContain('(over TCP)');
  });

  it('waits for a slow server within the timeout, and names it when it is too slow', async () => {
    const slow = await resolver.resolveAddresses('www.slow.test', signal());
    expect(slow.outcome).toBe('ok');
    expect(slow.addresses).toEqual(['192.0.2.60']);
    const impatient = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 150, retries: 2 });
    const late = await impatient.resolveAddresses('www.slow.test', signal());
    expect(late.outcome).toBe('timeout');
    expect(late.detail).toContain(`ns1.slow.test. (${lab.addresses.slow}): timeout`);
  });

  it('ends CNAME loops and glueless NS cycles as named failures', async () => {
    const inZone = await resolver.resolveAddresses('loop-a.example.test', signal());
    expect(inZone.outcome).toBe('servfail');
    const cname = await resolver.resolveAddresses('xloop.example.test', signal());
    expect(cname.outcome).toBe('error');
    expect(cname.detail).toBe('CNAME loop at xloop.example.test. (chain: xloop.example.test. → xloop.glueless.test.)');
    const glueless = await resolver.resolveAddresses('www.loop.test', signal());
    expect(glueless.outcome).toBe('servfail');
    expect(glueless.detail).toMatch(/glueless/);
  });

  it('finds the zone of a name and every authoritative server of it', async () => {
    expect((await resolver.zoneOf('www.example.test', signal())).zone).toBe('example.test');
    expect((await resolver.zoneOf('_cpanel-dcv-test-record.example.test', signal())).zone).toBe('example.test');
    expect((await resolver.zoneOf('example.test', signal())).zone).toBe('example.test');
    expect((await resolver.zoneOf('www.files.test', signal())).zone).toBe('files.test');
    const { servers } = await resolver.nameServers('example.test', signal());
    expect(servers.map((s) => s.address).sort()).toEqual([lab.addresses.primary, lab.addresses.secondary].sort());
  });

  it('resolves many names at once under its concurrency limit', async () => {
    const fresh = new IterativeResolver({ rootHints: lab.rootHints, concurrency: 4 });
    const names = Array.from({ length: 40 }, (_, i) => `n${i}.example.test`);
    const results = await Promise.all(names.map((n) => fresh.resolveAddresses(n, signal())));
    expect(results.every((r) => r.outcome === 'nxdomain')).toBe(true);
  });
});
