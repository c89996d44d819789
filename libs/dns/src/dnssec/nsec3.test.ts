import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { base32hex, nsec3Hash, nsec3Nodata, nsec3NoDs, nsec3Nxdomain, nsec3WildcardAnswer, usableNsec3, type Nsec3 } from './nsec3.js';

// The proofs' logic over an NSEC3 chain built here from a zone's names (signatures: denial.ts and the lab test).
const ZONE = 'ex.test';
const SALT = Buffer.from('c0ffee', 'hex');
const TYPES: Record<string, string[]> = {
  'ex.test': ['A', 'NS', 'SOA', 'RRSIG', 'DNSKEY', 'NSEC3PARAM'],
  'a.ex.test': ['A', 'RRSIG'],
  'child.ex.test': ['NS'],
  'signed.ex.test': ['NS', 'DS', 'RRSIG'],
  'w.ex.test': [],
  '*.w.ex.test': ['A', 'RRSIG'],
};

/** The zone's NSEC3 chain; `optOut` names are left out of it (unsigned delegations under opt-out) and flag the chain. */
function chainOf(types: Record<string, string[]>, optOut = false): Nsec3[] {
  const hashed = Object.entries(types)
    .map(([name, t]) => ({ hash: nsec3Hash(name, SALT, 0), types: t }))
    .sort((x, y) => Buffer.compare(x.hash, y.hash));
  return hashed.map((h, i) => ({
    owner: `${base32hex(h.hash)}.${ZONE}`,
    hash: h.hash,
    next: hashed[(i + 1) % hashed.length]!.hash,
    algorithm: 1,
    optOut,
    iterations: 0,
    salt: SALT,
    types: h.types,
  }));
}
const chain = chainOf(TYPES);

describe('NSEC3 hashes', () => {
  it('agree with RFC 5155 appendix A and with nsec3hash', () => {
    expect(base32hex(nsec3Hash('example', Buffer.from('aabbccdd', 'hex'), 12))).toBe('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom');
    for (const name of ['ex.test', 'A.Ex.Test', '*.w.ex.test']) {
      const bind = execFileSync('nsec3hash', ['C0FFEE', '1', '0', name], { encoding: 'utf8' }).split(' ')[0]!.toLowerCase();
      expect(base32hex(nsec3Hash(name, SALT, 0)), name).toBe(bind);
    }
  });
});

describe('NSEC3 proofs', () => {
  it('proves NXDOMAIN with the closest encloser, the next closer name and the wildcard', () => {
    expect(nsec3Nxdomain(chain, 'nope.ex.test', ZONE)).toEqual({ status: 'secure' });
    expect(nsec3Nxdomain(chain, 'deep.nope.a.ex.test', ZONE)).toEqual({ status: 'secure' });
    expect(nsec3Nxdomain(chain, 'a.ex.test', ZONE)).toEqual({ status: 'bogus', reason: 'the NSEC3 of a.ex.test says it exists' });
    const noApex = chain.filter((r) => !r.hash.equals(nsec3Hash('ex.test', SALT, 0)));
    expect(nsec3Nxdomain(noApex, 'nope.ex.test', ZONE)).toEqual({ status: 'bogus', reason: 'no NSEC3 proves a closest encloser of nope.ex.test' });
  });

  it('calls an NXDOMAIN under opt-out insecure: an unsigned delegation may be there', () => {
    expect(nsec3Nxdomain(chainOf(TYPES, true), 'nope.ex.test', ZONE)).toEqual({
      status: 'insecure',
      reason: 'the NSEC3 over nope.ex.test has opt-out: an unsigned delegation may be there',
    });
  });

  it('proves NODATA at the name and from a wildcard; refuses one whose NSEC3 lists the type', () => {
    expect(nsec3Nodata(chain, 'a.ex.test', 'AAAA', ZONE)).toEqual({ status: 'secure' });
    expect(nsec3Nodata(chain, 'a.ex.test', 'A', ZONE)).toEqual({ status: 'bogus', reason: 'the NSEC3 of a.ex.test lists A, which the answer denies' });
    expect(nsec3Nodata(chain, 'h.w.ex.test', 'TXT', ZONE)).toEqual({ status: 'secure' });
    expect(nsec3Nodata(chain, 'h.w.ex.test', 'A', ZONE)).toMatchObject({ status: 'bogus', reason: expect.stringContaining('*.w.ex.test lists A') });
  });

  it('proves a wildcard answer by an NSEC3 covering the next closer name', () => {
    expect(nsec3WildcardAnswer(chain, 'h.w.ex.test', 'w.ex.test')).toEqual({ status: 'secure' });
    expect(nsec3WildcardAnswer(chain, 'a.ex.test', 'ex.test')).toMatchObject({ status: 'bogus' });
  });

  it('proves no DS at a delegation by its NSEC3, or by opt-out over a delegation without one', () => {
    expect(nsec3NoDs(chain, 'child.ex.test', ZONE)).toEqual({ status: 'secure' });
    expect(nsec3NoDs(chain, 'signed.ex.test', ZONE)).toMatchObject({ status: 'bogus', reason: 'the NSEC3 of signed.ex.test lists a DS the referral left out' });
    const { 'child.ex.test': _, ...rest } = TYPES;
    expect(nsec3NoDs(chainOf(rest, true), 'child.ex.test', ZONE)).toEqual({ status: 'secure' });
    expect(nsec3NoDs(chainOf(rest, false), 'child.ex.test', ZONE)).toMatchObject({ status: 'bogus', reason: expect.stringContaining('has no opt-out') });
  });

  it("refuses the parent's NSEC3 at a delegation as a denial of any type at the child's apex but DS (RFC 6840 4.1)", () => {
    expect(nsec3Nodata(chain, 'child.ex.test', 'A', ZONE)).toMatchObject({ status: 'bogus', reason: expect.stringContaining('at a delegation') });
    expect(nsec3Nodata(chain, 'child.ex.test', 'DS', ZONE)).toEqual({ status: 'secure' });
    expect(nsec3Nxdomain(chain, 'q.child.ex.test', ZONE)).toMatchObject({ status: 'bogus' });
  });

  it('leaves NSEC3 of an unknown hash or too many iterations unjudged (insecure)', () => {
    expect(
      usableNsec3(
        chain.map((r) => ({ ...r, algorithm: 2 })),
        ZONE,
      ),
    ).toEqual({
      status: 'unsupported',
      reason: 'NSEC3 of ex.test with hash algorithm 2, which this validator does not judge',
    });
    expect(
      usableNsec3(
        chain.map((r) => ({ ...r, iterations: 500 })),
        ZONE,
      ),
    ).toMatchObject({ status: 'unsupported' });
    expect(usableNsec3(chain, ZONE)).toHaveLength(chain.length);
  });
});
