// DNSSEC validation in the resolver against the lab's signed BIND hierarchy (a signed root is the trust anchor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNSSEC_LAB_NAMES as N, DNSSEC_LAB_ZONES as Z, startDnssecLab, type DnssecLab } from '@certsmith/testlab';
import { IterativeResolver } from './iterative-resolver.js';

describe('IterativeResolver with DNSSEC validation', () => {
  let lab: DnssecLab;
  let resolver: IterativeResolver;
  const warnings: { code: string; message: string }[] = [];
  const signal = () => AbortSignal.timeout(20_000);
  beforeAll(async () => {
    lab = await startDnssecLab();
    const trustAnchors = lab.trustAnchors.map((ds) => ({ ...ds, digest: Buffer.from(ds.digest, 'hex') }));
    resolver = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0, dnssec: { trustAnchors, warn: (w) => warnings.push(w) } });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it("validates a zone again after another lookup's abort cut its walk short (an abort is not remembered)", async () => {
    const trustAnchors = lab.trustAnchors.map((ds) => ({ ...ds, digest: Buffer.from(ds.digest, 'hex') }));
    const first = new AbortController();
    let toRoot = 0;
    // The second question to the root is the walk's DNSKEY of the root, after the answer: the first lookup aborts there.
    const abortAtWalk = {
      refusal: (address: string) => (address === lab.rootHints[0]!.addresses[0] && ++toRoot === 2 && first.abort(new Error('first cancelled')), null),
    };
    const fresh = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0, addressPolicy: abortAtWalk, dnssec: { trustAnchors } });
    await expect(fresh.lookup(`www.${Z.good}`, 'A', first.signal)).rejects.toThrow('first cancelled');
    expect(await fresh.lookup(`www.${Z.good}`, 'A', signal())).toMatchObject({ outcome: 'ok', dnssec: { status: 'secure' } });
  });

  it('asks a zone for its DNSKEY again after a question no server answered (one lost datagram is not the zone verdict)', async () => {
    const trustAnchors = lab.trustAnchors.map((ds) => ({ ...ds, digest: Buffer.from(ds.digest, 'hex') }));
    let toZones = 0;
    // The zone server's second question is good.test's DNSKEY, after the answer: refused once, as if the datagram were lost.
    const dropOnce = { refusal: (address: string) => (address === lab.addresses.zones && ++toZones === 2 ? 'dropped once (test)' : null) };
    const fresh = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0, addressPolicy: dropOnce, dnssec: { trustAnchors } });
    expect(await fresh.lookup(`www.${Z.good}`, 'A', signal())).toMatchObject({ outcome: 'error', dnssec: { status: 'bogus' } });
    expect(await fresh.lookup(`www.${Z.good}`, 'A', signal())).toMatchObject({ outcome: 'ok', dnssec: { status: 'secure' } });
  });

  it('calls the good chains secure: ECDSA P-256 and RSA/SHA-256', async () => {
    for (const zone of [Z.good, Z.rsa]) {
      const r = await resolver.resolveAddresses(`www.${zone}`, signal());
      expect(r, zone).toMatchObject({ outcome: 'ok', addresses: ['2001:db8::10', '192.0.2.10'], dnssec: 'secure' });
    }
  });

  it('drops an answer whose RRSIG expired, naming the name, the type, the time and the server', async () => {
    const r = await resolver.resolveAddresses(`www.${Z.expired}`, signal());
    const when = lab.expiredAt.toISOString().replace('.000Z', 'Z');
    expect(r).toMatchObject({ outcome: 'error', addresses: [], chosen: null, dnssec: 'bogus' });
    expect(r.detail).toMatch(
      new RegExp(`^DNSSEC_BOGUS: (expired\\.test: RRSIG over DNSKEY|www\\.expired\\.test: RRSIG over A{1,4}) expired ${when} at ns1\\.zones\\.test$`),
    );
  });

  it('drops a zone whose DS matches no DNSKEY, an RRset without RRSIG, and a zone served unsigned under a DS', async () => {
    const wrongDs = await resolver.resolveAddresses(`www.${Z.wrongDs}`, signal());
    expect(wrongDs.detail).toMatch(/^DNSSEC_BOGUS: wrongds\.test: no DNSKEY of wrongds\.test matches its DS \(key tag \d+\) at ns1\.zones\.test$/);
    const noSig = await resolver.lookup(`bare.${Z.noSig}`, 'A', signal());
    expect(noSig).toMatchObject({ outcome: 'error', records: [], detail: 'DNSSEC_BOGUS: bare.nosig.test: no RRSIG over A by nosig.test at ns1.zones.test' });
    const stripped = await resolver.resolveAddresses(`www.${Z.stripped}`, signal());
    expect(stripped).toMatchObject({ outcome: 'error', dnssec: 'bogus' });
    expect(stripped.detail).toMatch(/^DNSSEC_BOGUS: stripped\.test: DNSKEY could not be fetched: stripped\.test\. DNSKEY: no DNSKEY record$/);
  });

  it('calls a delegation without DS insecure, not bogus, and still answers', async () => {
    const r = await resolver.lookup(`www.${Z.insecure}`, 'A', signal());
    expect(r).toMatchObject({ outcome: 'ok', dnssec: { status: 'insecure' } });
    expect(r.dnssec).toEqual({
      status: 'insecure',
      reason: 'no DS for insecure.test at ns1.test: an insecure delegation (proven by NSEC)',
    });
    expect((await resolver.resolveAddresses(`www.${Z.insecure}`, signal())).dnssec).toBe('insecure');
  });

  it('proves NXDOMAIN and NODATA by NSEC and by NSEC3: genuine negative answers, not bogus', async () => {
    for (const zone of [Z.good, Z.nsec3]) {
      expect(await resolver.lookup(`nx.${zone}`, 'A', signal()), zone).toMatchObject({ outcome: 'nxdomain', dnssec: { status: 'secure' } });
      expect(await resolver.lookup(`www.${zone}`, 'TXT', signal()), zone).toMatchObject({ outcome: 'nodata', dnssec: { status: 'secure' } });
    }
    const r = await resolver.resolveAddresses(`nx.${Z.nsec3}`, signal());
    expect(r).toMatchObject({ outcome: 'nxdomain', dnssec: 'secure', detail: 'nx.nsec3.test does not exist (NXDOMAIN)' });
    // Under opt-out, an NXDOMAIN cannot rule out an unsigned delegation: a genuine NXDOMAIN, but insecure.
    const optOut = await resolver.lookup(`nx.${Z.optOut}`, 'A', signal());
    expect(optOut).toMatchObject({ outcome: 'nxdomain', dnssec: { status: 'insecure', reason: expect.stringContaining('has opt-out') } });
  });

  it('calls an unproved denial in a signed zone bogus (BIND gave the apex NSEC, which does not cover the name)', async () => {
    const nx = await resolver.resolveAddresses(`zz.${Z.noDenial}`, signal());
    expect(nx).toMatchObject({
      outcome: 'error',
      dnssec: 'bogus',
      detail: 'DNSSEC_BOGUS: zz.nodenial.test: no NSEC proves that zz.nodenial.test does not exist at ns1.zones.test',
    });
    // The NSEC of the apex is signed and genuine, but it does not cover the name it is given to deny.
    expect((await resolver.lookup(`zz.${Z.noDenial}`, 'AAAA', signal())).dnssec).toMatchObject({ status: 'bogus' });
  });

  it('proves wildcard answers by NSEC and NSEC3', async () => {
    for (const wildcard of [N.nsecWildcard, N.nsec3Wildcard]) {
      const r = await resolver.lookup(`host.${wildcard}`, 'A', signal());
      expect(r, wildcard).toMatchObject({ outcome: 'ok', dnssec: { status: 'secure' } });
      expect(r.records.map((x) => x.data)).toEqual(['192.0.2.30']);
    }
  });

  it('validates each CNAME of a chain in its own zone: secure, insecure, bogus', async () => {
    expect(await resolver.lookup(N.toRsa, 'A', signal())).toMatchObject({ outcome: 'ok', cnames: ['www.rsa.test'], dnssec: { status: 'secure' } });
    const insecure = await resolver.lookup(N.toInsecure, 'A', signal());
    expect(insecure).toMatchObject({ outcome: 'ok', cnames: ['www.insecure.test'], dnssec: { status: 'insecure' } });
    const bogus = await resolver.resolveAddresses(N.toExpired, signal());
    expect(bogus).toMatchObject({ outcome: 'error', dnssec: 'bogus' });
    expect(bogus.detail).toMatch(/^DNSSEC_BOGUS: expired\.test: RRSIG over DNSKEY expired .* at ns1\.zones\.test$/);
  });

  it('calls a delegation without DS under NSEC3 insecure, by its NSEC3 or by opt-out', async () => {
    for (const name of [N.nsec3Insecure, N.optOutInsecure]) {
      const r = await resolver.lookup(`www.${name}`, 'A', signal());
      expect(r, name).toMatchObject({
        outcome: 'ok',
        dnssec: { status: 'insecure', reason: `no DS for ${name} at ns1.zones.test: an insecure delegation (proven by NSEC3)` },
      });
    }
  });

  it('treats a zone signed with an algorithm it does not know (Ed448) as insecure, with one warning naming zone and algorithm', async () => {
    const r = await resolver.resolveAddresses(`www.${Z.ed448}`, signal());
    expect(r).toMatchObject({ outcome: 'ok', dnssec: 'insecure' });
    const mine = warnings.filter((w) => w.message.includes(Z.ed448));
    expect(mine).toEqual([
      {
        code: 'DNSSEC_UNSUPPORTED',
        message: `${Z.ed448}: no DS of ${Z.ed448} that this validator can use (algorithm 16 digest 2) at ns1.test: the name is treated as unsigned (insecure), not bogus`,
      },
    ]);
  });

  it("finds a signed child served by its parent's own server (no referral) from the DS in the parent: secure, no warning", async () => {
    const child = N.sameServerSigned;
    // The answer is signed by the child: its DS in good.test and its DNSKEY authenticate it.
    const r = await resolver.lookup(`www.${child}`, 'A', signal());
    expect(r).toMatchObject({ outcome: 'ok', zone: Z.good, dnssec: { status: 'secure' } });
    expect(r.records.map((x) => x.data)).toEqual([lab.addresses.zones]);
    // Its denials are signed by the child too: the SOA names the zone, its DS in good.test the keys.
    expect(await resolver.lookup(`www.${child}`, 'AAAA', signal())).toMatchObject({ outcome: 'nodata', dnssec: { status: 'secure' } });
    expect(await resolver.lookup(`nx.${child}`, 'A', signal())).toMatchObject({ outcome: 'nxdomain', dnssec: { status: 'secure' } });
    expect(warnings.filter((w) => w.message.includes(child))).toEqual([]);
  });

  it("calls an unsigned child served by its parent's own server insecure when the parent's NSEC proves no DS", async () => {
    const child = N.sameServerUnsigned;
    const reason = `no DS for ${child} at ns1.zones.test: an insecure delegation that no referral showed (proven by NSEC)`;
    expect(await resolver.lookup(`www.${child}`, 'A', signal())).toMatchObject({ outcome: 'ok', dnssec: { status: 'insecure', reason } });
    expect(await resolver.lookup(`www.${child}`, 'AAAA', signal())).toMatchObject({ outcome: 'nodata', dnssec: { status: 'insecure', reason } });
    expect(warnings.filter((w) => w.message.includes(child))).toEqual([]);
  });

  it("calls a child served by its parent's own server bogus when nothing proves its DS present or absent", async () => {
    // BIND cannot deny the DS without the NSEC records that were dropped: it fails the question (SERVFAIL).
    const r = await resolver.lookup(`www.${N.sameServerUnproved}`, 'A', signal());
    expect(r).toMatchObject({ outcome: 'error', records: [], dnssec: { status: 'bogus' } });
    expect(r.detail).toMatch(/^DNSSEC_BOGUS: hidden\.nodenial\.test: DS could not be fetched: no server of nodenial\.test\. answered .*SERVFAIL$/);
  });

  it('judges the validity window by the injected clock', async () => {
    const late = new IterativeResolver({
      rootHints: lab.rootHints,
      timeoutMs: 1_000,
      retries: 0,
      dnssec: {
        trustAnchors: lab.trustAnchors.map((ds) => ({ ...ds, digest: Buffer.from(ds.digest, 'hex') })),
        now: () => new Date(Date.now() + 400 * 86_400_000),
      },
    });
    const r = await late.resolveAddresses(`www.${Z.good}`, signal());
    expect(r).toMatchObject({ outcome: 'error', dnssec: 'bogus' });
    expect(r.detail).toMatch(/^DNSSEC_BOGUS: \.: RRSIG over DNSKEY expired .* at a\.root$/);
  });

  it('asks without the DO bit when DNSSEC is off: no verdict', async () => {
    const off = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0 });
    const r = await off.resolveAddresses(`www.${Z.expired}`, signal());
    expect(r).toMatchObject({ outcome: 'ok', addresses: ['2001:db8::10', '192.0.2.10'] });
    expect(r.dnssec).toBeUndefined();
  });
});
