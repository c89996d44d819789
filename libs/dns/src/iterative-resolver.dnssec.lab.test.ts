// DNSSEC validation in the resolver against the lab's signed BIND hierarchy (a signed root is the trust anchor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNSSEC_LAB_ZONES as Z, startDnssecLab, type DnssecLab } from '@certsmith/testlab';
import { IterativeResolver } from './iterative-resolver.js';

describe('IterativeResolver with DNSSEC validation', () => {
  let lab: DnssecLab;
  let resolver: IterativeResolver;
  const signal = () => AbortSignal.timeout(20_000);
  beforeAll(async () => {
    lab = await startDnssecLab();
    const trustAnchors = lab.trustAnchors.map((ds) => ({ ...ds, digest: Buffer.from(ds.digest, 'hex') }));
    resolver = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000, retries: 0, dnssec: { trustAnchors } });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
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
