// Every authoritative server's A and AAAA for a name, against the lab's BIND primary and secondary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStaleSecondary, startDnsLab, type DnsLab } from '@certsmith/testlab';
import { authoritativeAddresses } from './authoritative-addresses.js';
import { IterativeResolver } from './iterative-resolver.js';

describe('authoritativeAddresses against the lab hierarchy', () => {
  let lab: DnsLab;
  let resolver: IterativeResolver;
  const signal = () => AbortSignal.timeout(20_000);
  const byServer = (answers: { server: { name: string } }[]) => [...answers].sort((a, b) => a.server.name.localeCompare(b.server.name));
  beforeAll(async () => {
    lab = await startDnsLab();
    resolver = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0 });
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('gives each server of the zone with the same AAAA and A when primary and secondary agree', async () => {
    const found = await authoritativeAddresses(resolver, 'Host.Example.Test.', signal());
    const { primary, secondary } = lab.addresses;
    expect(found.name).toBe('host.example.test');
    expect(found.zone).toBe('example.test');
    expect(byServer(found.answers)).toEqual([
      { server: { name: 'ns1.example.test', address: primary }, answered: true, addresses: ['2001:db8::10', '192.0.2.10'] },
      { server: { name: 'ns2.example.test', address: secondary }, answered: true, addresses: ['2001:db8::10', '192.0.2.10'] },
    ]);
    expect(found.byName.get('ns1.example.test')).toEqual([primary]);
  });

  it('gives an alias as its CNAME target, not followed, and a missing name as no address', async () => {
    const alias = await authoritativeAddresses(resolver, 'www.example.test', signal());
    expect(alias.answers.map((a) => a.answered && { addresses: a.addresses, cname: a.cname })).toEqual([
      { addresses: [], cname: 'host.example.test' },
      { addresses: [], cname: 'host.example.test' },
    ]);
    const missing = await authoritativeAddresses(resolver, 'nothing-here.example.test', signal());
    expect(missing.answers.map((a) => a.answered && a.addresses)).toEqual([[], []]);
  });

  it('names the server that refuses the zone instead of an answer', async () => {
    const found = await authoritativeAddresses(resolver, 'www.lame.test', signal());
    expect(byServer(found.answers)).toEqual([
      { server: { name: 'ns1.lame.test', address: lab.addresses.secondary }, answered: false, detail: 'REFUSED' },
      { server: { name: 'ns2.lame.test', address: lab.addresses.primary }, answered: true, addresses: ['192.0.2.40'] },
    ]);
  });

  it('shows a secondary that kept its copy when the zone changed under the same serial', async () => {
    await makeStaleSecondary(lab, { transferred: ['www     IN A   127.0.0.7'], primaryOnly: ['www     IN A   127.0.0.8', 'www     IN AAAA ::1'] });
    expect(await lab.dig(lab.addresses.secondary, 'www.files.test', 'A')).toBe('127.0.0.7');
    const found = await authoritativeAddresses(resolver, 'www.files.test', signal());
    expect(found.zone).toBe('files.test');
    expect(byServer(found.answers)).toEqual([
      { server: { name: 'ns1.example.test', address: lab.addresses.primary }, answered: true, addresses: ['::1', '127.0.0.8'] },
      { server: { name: 'ns2.example.test', address: lab.addresses.secondary }, answered: true, addresses: ['127.0.0.7'] },
    ]);
  });

  it('asks the server that just gave the resolution nothing again: its answer is reused within the window', async () => {
    const fresh = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0 });
    await fresh.resolveAddresses('host.example.test', signal());
    const before = fresh.stats.udp;
    const found = await authoritativeAddresses(fresh, 'host.example.test', signal());
    expect(found.answers.every((a) => a.answered && a.addresses.length === 2)).toBe(true);
    // The zone's SOA and NS, and A and AAAA of the one server the resolution did not ask: four questions, not six.
    expect(fresh.stats.udp - before).toBe(4);
    const again = fresh.stats.udp;
    await fresh.ask(lab.addresses.primary, 'host.example.test', 'TXT', signal());
    await fresh.ask(lab.addresses.primary, 'host.example.test', 'TXT', signal());
    expect(fresh.stats.udp - again).toBe(2);
  });

  it('throws when aborted', async () => {
    await expect(authoritativeAddresses(resolver, 'host.example.test', AbortSignal.abort())).rejects.toThrow();
  });
});
