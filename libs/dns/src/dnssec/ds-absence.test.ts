import { describe, expect, it } from 'vitest';
import { verifyDsAbsence } from './ds-absence.js';

const now = new Date('2026-12-06T00:00:00Z');
const nsec = (rrtypes: string[]) => ({ name: 'child.test', type: 'NSEC', data: { nextDomain: 'next.test', rrtypes } });

// The signed case (NSEC verified with the parent's key) is proven against BIND in iterative-resolver.dnssec.lab.test.ts.
describe('verifyDsAbsence', () => {
  it('is bogus without any proof, and unsupported (insecure) with an NSEC3 one', () => {
    const none = verifyDsAbsence('child.test', 'test', { nsec: [], signatures: [], nsec3: false }, [], now);
    expect(none).toEqual({ status: 'bogus', reason: 'no DS for child.test and no NSEC proving there is none' });
    const nsec3 = verifyDsAbsence('child.test', 'test', { nsec: [], signatures: [], nsec3: true }, [], now);
    expect(nsec3).toEqual({ status: 'unsupported', reason: 'no DS for child.test; its NSEC3 proof is not checked yet' });
  });

  it('is bogus when the NSEC lists DS, or is not that of a delegation', () => {
    const withDs = verifyDsAbsence('child.test', 'test', { nsec: [nsec(['NS', 'DS', 'RRSIG', 'NSEC'])], signatures: [], nsec3: false }, [], now);
    expect(withDs).toMatchObject({ status: 'bogus', reason: 'the NSEC of child.test lists a DS the referral left out' });
    const apex = verifyDsAbsence('child.test', 'test', { nsec: [nsec(['NS', 'SOA', 'RRSIG', 'NSEC'])], signatures: [], nsec3: false }, [], now);
    expect(apex).toMatchObject({ status: 'bogus', reason: 'the NSEC of child.test is not that of a delegation' });
  });

  it('is bogus when the NSEC has no signature by the parent', () => {
    const unsigned = verifyDsAbsence('child.test', 'test', { nsec: [nsec(['NS', 'RRSIG', 'NSEC'])], signatures: [], nsec3: false }, [], now);
    expect(unsigned).toEqual({ status: 'bogus', reason: 'NSEC proving no DS for child.test: no RRSIG over NSEC by test' });
  });
});
