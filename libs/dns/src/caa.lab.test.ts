// The RFC 8659 CAA climb against real BIND servers: zones with every kind of CAA RRset an administrator (or an
// attacker) can publish, resolved iteratively from the lab root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAA_MAX_RECORDS, decideCaa } from '@certsmith/core';
import { startDnsLab, type DnsLab } from '@certsmith/testlab';
import { IterativeResolver } from './iterative-resolver.js';

const HUGE = 300;
const LARGE = 200;

const CAA_ZONES = {
  'caa.test': `$TTL 60
@          IN SOA ns1.example.test. hostmaster.caa.test. 1 300 60 86400 30
@          IN NS  ns1.example.test.
@          IN CAA 0 issue "apex-ca.example"
allowed    IN CAA 0 issue "ca.example; accounturi=https://ca.example/acct/1"
allowed    IN CAA 0 iodef "mailto:security@caa.test"
forbidden  IN CAA 0 issue "other.example"
nobody     IN CAA 0 issue ";"
wild       IN CAA 0 issue "other.example"
wild       IN CAA 0 issuewild "ca.example"
critical   IN CAA 0 issue "ca.example"
critical   IN CAA 128 tbs "unknown"
parent     IN CAA 0 issue "parent-ca.example"
www.parent IN A   192.0.2.1
bad        IN CAA 0 issue "%%%%%"
bad        IN CAA 0 issue "ca.example;;"
cdn        IN CNAME hop
hop        IN CNAME edge.caa-cdn.test.
plain      IN CNAME www.caa-cdn.test.
xloop      IN CNAME xloop.caa-cdn.test.
huge       IN A   192.0.2.2
${Array.from({ length: HUGE }, (_, i) => `huge       IN CAA 0 issue "ca-${String(i).padStart(3, '0')}.example"`).join('\n')}
${Array.from({ length: LARGE }, (_, i) => `large      IN CAA 0 issue "ca-${i === LARGE - 1 ? 'last' : String(i).padStart(3, '0')}.example"`).join('\n')}
`,
  // The CNAME targets' zone: its apex CAA must never be used for a name of caa.test (RFC 8659 climbs the alias's own tree).
  'caa-cdn.test': `$TTL 60
@          IN SOA ns1.example.test. hostmaster.caa-cdn.test. 1 300 60 86400 30
@          IN NS  ns1.example.test.
@          IN CAA 0 issue "cdn-parent.example"
edge       IN CAA 0 issue "cdn-ca.example"
www        IN A   192.0.2.3
xloop      IN CNAME xloop.caa.test.
`,
};

describe('lookupCaa against the lab hierarchy (RFC 8659 section 3)', () => {
  let lab: DnsLab;
  let resolver: IterativeResolver;
  const signal = () => AbortSignal.timeout(20_000);
  beforeAll(async () => {
    lab = await startDnsLab({ extraZones: CAA_ZONES });
    resolver = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0 });
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('finds no record anywhere up to the TLD: outcome none, every level asked, never the root', async () => {
    const r = await resolver.lookupCaa('host.example.test', signal());
    expect(r).toMatchObject({ name: 'host.example.test', outcome: 'none', records: [], owner: null });
    expect(r.path).toEqual(['host.example.test.: no CAA record', 'example.test.: no CAA record', 'test.: no CAA record']);
    expect(decideCaa('host.example.test', r, ['ca.example']).allowed).toBe(true);
  });

  it('reads the RRset at the name itself: flags, tag, value, parameters kept', async () => {
    const r = await resolver.lookupCaa('Allowed.CAA.test.', signal());
    expect(r.outcome).toBe('found');
    expect(r.owner).toBe('allowed.caa.test');
    expect(r.level).toBe('allowed.caa.test');
    expect(r.records).toEqual(
      expect.arrayContaining([
        { flags: 0, tag: 'issue', value: 'ca.example; accounturi=https://ca.example/acct/1' },
        { flags: 0, tag: 'iodef', value: 'mailto:security@caa.test' },
      ]),
    );
    expect(decideCaa('allowed.caa.test', r, ['ca.example']).allowed).toBe(true);
    expect(decideCaa('allowed.caa.test', r, ['other.example']).allowed).toBe(false);
  });

  it('forbidden, issue ";" and a critical unknown tag forbid; issuewild only counts for a wildcard', async () => {
    expect(decideCaa('forbidden.caa.test', await resolver.lookupCaa('forbidden.caa.test', signal()), ['ca.example'])).toMatchObject({
      allowed: false,
      record: '0 issue "other.example"',
      where: 'forbidden.caa.test',
    });
    expect(decideCaa('nobody.caa.test', await resolver.lookupCaa('nobody.caa.test', signal()), ['ca.example'])).toMatchObject({
      allowed: false,
      record: '0 issue ";"',
    });
    expect(decideCaa('critical.caa.test', await resolver.lookupCaa('critical.caa.test', signal()), ['ca.example'])).toMatchObject({
      allowed: false,
      record: '128 tbs "unknown"',
    });
    const wild = await resolver.lookupCaa('*.wild.caa.test', signal());
    expect(wild.name).toBe('wild.caa.test'); // a wildcard's climb starts at its base domain
    expect(decideCaa('*.wild.caa.test', wild, ['ca.example'])).toMatchObject({ allowed: true, reason: 'issuewild names this CA' });
    expect(decideCaa('wild.caa.test', await resolver.lookupCaa('wild.caa.test', signal()), ['ca.example']).allowed).toBe(false);
  });

  it('climbs to the parent, and to the zone apex, when the name has no CAA', async () => {
    const r = await resolver.lookupCaa('www.parent.caa.test', signal());
    expect(r).toMatchObject({ outcome: 'found', level: 'parent.caa.test', owner: 'parent.caa.test' });
    expect(r.path).toEqual(['www.parent.caa.test.: no CAA record', 'parent.caa.test.: 1 CAA record(s)']);
    const deep = await resolver.lookupCaa('a.b.c.caa.test', signal());
    expect(deep).toMatchObject({ outcome: 'found', level: 'caa.test', records: [{ flags: 0, tag: 'issue', value: 'apex-ca.example' }] });
    expect(deep.path[0]).toBe('a.b.c.caa.test.: NXDOMAIN');
  });

  it("follows a CNAME chain at a level into another zone; a target without CAA climbs the alias's tree, not the target's", async () => {
    const cdn = await resolver.lookupCaa('cdn.caa.test', signal());
    expect(cdn).toMatchObject({ outcome: 'found', level: 'cdn.caa.test', owner: 'edge.caa-cdn.test', cnames: ['hop.caa.test', 'edge.caa-cdn.test'] });
    expect(decideCaa('cdn.caa.test', cdn, ['ca.example'])).toMatchObject({ allowed: false, where: 'edge.caa-cdn.test (CNAME from cdn.caa.test)' });
    expect(decideCaa('cdn.caa.test', cdn, ['cdn-ca.example']).allowed).toBe(true);
    const plain = await resolver.lookupCaa('plain.caa.test', signal());
    expect(plain).toMatchObject({ outcome: 'found', level: 'caa.test', owner: 'caa.test', records: [{ flags: 0, tag: 'issue', value: 'apex-ca.example' }] });
  });

  it('ends a CNAME loop across two zones as a failure named loop', async () => {
    const r = await resolver.lookupCaa('xloop.caa.test', signal());
    expect(r).toMatchObject({ outcome: 'loop', level: 'xloop.caa.test', records: [] });
    expect(r.detail).toMatch(/^CAA at xloop\.caa\.test\.: CNAME loop at /);
  });

  it('keeps malformed values, marked, and never throws; a malformed issue value names no CA', async () => {
    const r = await resolver.lookupCaa('bad.caa.test', signal());
    expect(r.records).toEqual(
      expect.arrayContaining([
        { flags: 0, tag: 'issue', value: '%%%%%', malformed: expect.stringContaining('RFC 8659 section 4.2') },
        { flags: 0, tag: 'issue', value: 'ca.example;;', malformed: expect.stringContaining('RFC 8659 section 4.2') },
      ]),
    );
    expect(decideCaa('bad.caa.test', r, ['ca.example']).allowed).toBe(false);
  });

  it('reads a large RRset over TCP in full, and cuts a huge one at the cap, saying how many there were', async () => {
    const before = resolver.stats.tcp;
    const large = await resolver.lookupCaa('large.caa.test', signal());
    expect(resolver.stats.tcp).toBeGreaterThan(before);
    expect(large.records).toHaveLength(LARGE);
    expect(large.total).toBeUndefined();
    expect(decideCaa('large.caa.test', large, ['ca-last.example'])).toMatchObject({ allowed: true, record: '0 issue "ca-last.example"' });
    const huge = await resolver.lookupCaa('huge.caa.test', signal());
    expect(huge.records).toHaveLength(CAA_MAX_RECORDS);
    expect(huge.total).toBe(HUGE);
    expect(decideCaa('huge.caa.test', huge, ['ca.example'])).toMatchObject({
      allowed: null,
      reason: expect.stringContaining(`has ${HUGE} records; only the first ${CAA_MAX_RECORDS} were read`),
    });
  });

  it('reports a server that does not answer as timeout, and one that refuses as servfail', async () => {
    const fast = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 100, retries: 0 });
    const slow = await fast.lookupCaa('www.slow.test', signal());
    expect(slow).toMatchObject({ outcome: 'timeout', level: 'www.slow.test' });
    const dead = await resolver.lookupCaa('www.dead.test', signal());
    expect(dead).toMatchObject({ outcome: 'servfail', level: 'www.dead.test' });
    expect(dead.detail).toMatch(/REFUSED/);
  });
});
