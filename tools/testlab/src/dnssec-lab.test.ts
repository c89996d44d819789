import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNSSEC_LAB_NAMES as N, DNSSEC_LAB_ZONES as Z, startDnssecLab, type DnssecLab } from './dnssec-lab.js';

describe('startDnssecLab', () => {
  let lab: DnssecLab;
  beforeAll(async () => {
    lab = await startDnssecLab();
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('serves signed answers with RRSIGs from the root down (dig +dnssec)', async () => {
    const root = await lab.dig(lab.addresses.root, ['+dnssec', '+norecurse', '.', 'DNSKEY']);
    expect(root).toMatch(/IN\s+RRSIG\s+DNSKEY 13 0 /);
    const referral = await lab.dig(lab.addresses.tld, ['+dnssec', '+norecurse', `www.${Z.good}`, 'A']);
    expect(referral).toMatch(new RegExp(`${Z.good}\\.\\s+\\d+\\s+IN\\s+DS\\s+\\d+ 13 2 `));
    const rsa = await lab.dig(lab.addresses.zones, ['+dnssec', '+norecurse', `www.${Z.rsa}`, 'A']);
    expect(rsa).toMatch(/IN\s+RRSIG\s+A 8 3 300 /);
    const bare = await lab.dig(lab.addresses.zones, ['+dnssec', '+norecurse', '+noall', '+answer', `bare.${Z.noSig}`, 'A']);
    expect(bare).toMatch(/IN\s+A\s+192\.0\.2\.99/);
    expect(bare).not.toMatch(/RRSIG/);
  });

  it('validates the good chains with the lab anchor (delv: fully validated)', async () => {
    expect(await lab.delv(`www.${Z.good}`, 'A')).toContain('; fully validated');
    expect(await lab.delv(`www.${Z.rsa}`, 'A')).toContain('; fully validated');
  });

  it('fails the bogus zones, each for its own reason (delv)', async () => {
    const failed = /resolution failed/;
    const expired = await lab.delv(`www.${Z.expired}`, 'A');
    expect(expired).toMatch(failed);
    expect(expired).toMatch(/signature has expired|expired/i);
    const wrongDs = await lab.delv(`www.${Z.wrongDs}`, 'A');
    expect(wrongDs).toMatch(failed);
    expect(wrongDs).toMatch(/no DNSKEY matching DS|no valid signature/i);
    expect(await lab.delv(`bare.${Z.noSig}`, 'A')).toMatch(failed);
    expect(await lab.delv(`www.${Z.stripped}`, 'A')).toMatch(failed);
  });

  it('answers the unsigned delegation as insecure, not bogus (delv: unsigned answer)', async () => {
    const insecure = await lab.delv(`www.${Z.insecure}`, 'A');
    expect(insecure).toContain('; unsigned answer');
    expect(insecure).toContain('192.0.2.10');
  });

  it('answers from a child on the server of good.test with no referral; the DS comes from good.test', async () => {
    const signed = await lab.dig(lab.addresses.zones, ['+dnssec', '+norecurse', `www.${N.sameServerSigned}`, 'A']);
    expect(signed).toMatch(/flags: qr aa/);
    expect(signed).toMatch(new RegExp(`IN\\s+RRSIG\\s+A 13 4 300 \\d+ \\d+ \\d+ ${N.sameServerSigned}\\. `));
    const ds = await lab.dig(lab.addresses.zones, ['+dnssec', '+norecurse', N.sameServerSigned, 'DS']);
    expect(ds).toMatch(new RegExp(`IN\\s+RRSIG\\s+DS 13 3 300 \\d+ \\d+ \\d+ ${Z.good}\\. `));
    const plain = await lab.dig(lab.addresses.zones, ['+dnssec', '+norecurse', `www.${N.sameServerUnsigned}`, 'A']);
    expect(plain).toMatch(/flags: qr aa/);
    expect(plain).toContain(lab.addresses.zones);
    expect(plain).not.toMatch(/RRSIG/);
    // A validating resolver (delv) finds both cuts: secure through sub's DS, insecure by plain's NSEC in good.test.
    expect(await lab.delv(`www.${N.sameServerSigned}`, 'A')).toContain('; fully validated');
    expect(await lab.delv(`www.${N.sameServerUnsigned}`, 'A')).toContain('; unsigned answer');
    // Nothing in nodenial.test proves hidden's DS absent: bogus to a validator.
    expect(await lab.delv(`www.${N.sameServerUnproved}`, 'A')).toMatch(/resolution failed/);
  });

  it('gives the root DS as the trust anchor', () => {
    expect(lab.trustAnchors).toEqual([expect.objectContaining({ owner: '.', algorithm: 13, digestType: 2 })]);
    expect(lab.trustAnchors[0]!.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(lab.expiredAt.getTime()).toBeLessThan(Date.now());
  });
});
