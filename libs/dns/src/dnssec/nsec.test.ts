import { describe, expect, it } from 'vitest';
import { compareNames } from './name-order.js';
import { nsecCovers, nsecNodata, nsecNoDs, nsecNxdomain, nsecWildcardAnswer, type Nsec } from './nsec.js';

// The proofs' logic over an NSEC chain built here from a zone's names (signatures are checked in denial.ts, against
// BIND's in iterative-resolver.dnssec.lab.test.ts).
const ZONE = 'ex.test';
const TYPES: Record<string, string[]> = {
  'ex.test': ['A', 'NS', 'SOA', 'RRSIG', 'NSEC', 'DNSKEY'],
  'a.ex.test': ['A', 'RRSIG', 'NSEC'],
  'alias.ex.test': ['CNAME', 'RRSIG', 'NSEC'],
  'child.ex.test': ['NS', 'RRSIG', 'NSEC'],
  'signed.ex.test': ['NS', 'DS', 'RRSIG', 'NSEC'],
  'x.y.ex.test': ['A', 'RRSIG', 'NSEC'], // y.ex.test is an empty non-terminal
  '*.w.ex.test': ['A', 'RRSIG', 'NSEC'],
};
const owners = Object.keys(TYPES).sort(compareNames);
const chain: Nsec[] = owners.map((owner, i) => ({ owner, next: owners[(i + 1) % owners.length]!, types: TYPES[owner]! }));
const at = (owner: string) => chain.find((n) => n.owner === owner)!;
const covering = (name: string) => chain.filter((n) => nsecCovers(n, name));

describe('NSEC proofs', () => {
  it('orders names canonically and covers exactly the names between owner and next (the last wraps)', () => {
    expect(owners).toEqual(['ex.test', 'a.ex.test', 'alias.ex.test', 'child.ex.test', 'signed.ex.test', '*.w.ex.test', 'x.y.ex.test']);
    expect(covering('b.ex.test').map((n) => n.owner)).toEqual(['alias.ex.test']);
    expect(covering('zz.ex.test').map((n) => n.owner)).toEqual(['x.y.ex.test']);
    expect(covering('a.ex.test')).toEqual([]);
  });

  it('proves NXDOMAIN with the covering NSEC and the one covering the wildcard; not without it', () => {
    expect(nsecNxdomain(covering('b.ex.test').concat(covering('*.ex.test')), 'b.ex.test', ZONE)).toEqual({ status: 'secure' });
    expect(nsecNxdomain(covering('b.ex.test'), 'b.ex.test', ZONE)).toEqual({ status: 'bogus', reason: 'no NSEC proves that *.ex.test does not exist' });
    expect(nsecNxdomain([at('alias.ex.test')], 'a.ex.test', ZONE)).toEqual({ status: 'bogus', reason: 'no NSEC proves that a.ex.test does not exist' });
    // Below an existing name the closest encloser is that name: the wildcard to deny is *.a.ex.test.
    expect(nsecNxdomain([at('a.ex.test')], 'q.a.ex.test', ZONE)).toEqual({ status: 'secure' });
    // y.ex.test is an empty non-terminal: the NSEC covering it, whose next name is below it, says it exists.
    expect(nsecNxdomain([...covering('y.ex.test'), ...covering('*.ex.test')], 'y.ex.test', ZONE)).toEqual({
      status: 'bogus',
      reason: 'an NSEC shows that y.ex.test exists, which the NXDOMAIN denies',
    });
    expect(nsecNxdomain([at('a.ex.test'), ...covering('b.ex.test'), ...covering('*.ex.test')], 'a.ex.test', ZONE)).toMatchObject({ status: 'bogus' });
  });

  it('proves NODATA at the name, at an empty non-terminal and from a wildcard; refuses an NSEC listing the type or CNAME', () => {
    expect(nsecNodata([at('a.ex.test')], 'a.ex.test', 'AAAA', ZONE)).toEqual({ status: 'secure' });
    expect(nsecNodata([at('a.ex.test')], 'a.ex.test', 'A', ZONE)).toEqual({
      status: 'bogus',
      reason: 'the NSEC of a.ex.test lists A, which the answer denies',
    });
    expect(nsecNodata([at('alias.ex.test')], 'alias.ex.test', 'A', ZONE)).toMatchObject({ reason: expect.stringContaining('lists CNAME') });
    expect(nsecNodata(covering('y.ex.test'), 'y.ex.test', 'A', ZONE)).toEqual({ status: 'secure' });
    expect(nsecNodata([...covering('h.w.ex.test'), at('*.w.ex.test')], 'h.w.ex.test', 'TXT', ZONE)).toEqual({ status: 'secure' });
    expect(nsecNodata(covering('b.ex.test'), 'b.ex.test', 'A', ZONE)).toEqual({ status: 'bogus', reason: 'no NSEC proves that b.ex.test has no A' });
  });

  it('proves a wildcard answer by an NSEC covering the name', () => {
    expect(nsecWildcardAnswer(covering('h.w.ex.test'), 'h.w.ex.test', 'w.ex.test', ZONE)).toEqual({ status: 'secure' });
    expect(nsecWildcardAnswer([at('a.ex.test')], 'h.w.ex.test', 'w.ex.test', ZONE)).toMatchObject({ status: 'bogus' });
    // b.w.ex.test exists: its NSEC covers a.b.w.ex.test, but *.w.ex.test does not expand below an existing name.
    const existing: Nsec = { owner: 'b.w.ex.test', next: 'c.w.ex.test', types: ['A', 'RRSIG', 'NSEC'] };
    expect(nsecWildcardAnswer([existing], 'a.b.w.ex.test', 'w.ex.test', ZONE)).toMatchObject({ status: 'bogus' });
    expect(nsecWildcardAnswer([existing], 'a.b.w.ex.test', 'b.w.ex.test', ZONE)).toEqual({ status: 'secure' });
  });

  it('proves no DS only at a delegation whose NSEC lists NS without DS or SOA', () => {
    expect(nsecNoDs([at('child.ex.test')], 'child.ex.test')).toEqual({ status: 'secure' });
    expect(nsecNoDs([at('signed.ex.test')], 'signed.ex.test')).toEqual({
      status: 'bogus',
      reason: 'the NSEC of signed.ex.test lists a DS the referral left out',
    });
    expect(nsecNoDs([at('a.ex.test')], 'a.ex.test')).toEqual({ status: 'bogus', reason: 'the NSEC of a.ex.test is not that of a delegation' });
    expect(nsecNoDs([], 'child.ex.test')).toEqual({ status: 'bogus', reason: 'no DS for child.ex.test and no NSEC proving there is none' });
  });

  it("refuses the parent's NSEC at a delegation as a denial of anything at or below the cut but its DS (RFC 6840 4.1)", () => {
    // child.ex.test's NSEC covers every name below it and lists no A: a replay of it must not deny the child's names.
    expect(nsecNxdomain([at('child.ex.test')], 'q.child.ex.test', ZONE)).toMatchObject({ status: 'bogus' });
    expect(nsecNodata([at('child.ex.test')], 'child.ex.test', 'A', ZONE)).toMatchObject({ status: 'bogus' });
    expect(nsecNodata([at('child.ex.test')], 'q.child.ex.test', 'A', ZONE)).toMatchObject({ status: 'bogus' });
    expect(nsecWildcardAnswer([at('child.ex.test')], 'q.child.ex.test', 'child.ex.test', ZONE)).toMatchObject({ status: 'bogus' });
    expect(nsecNodata([at('child.ex.test')], 'child.ex.test', 'DS', ZONE)).toEqual({ status: 'secure' });
  });
});
