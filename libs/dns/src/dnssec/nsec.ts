import { isWithin, normalizeName, type DnsRecord } from '../wire.js';
import { commonAncestor, compareNames, wildcardAt } from './name-order.js';

/** What a denial proves, before the question of who signed it (see denial.ts). */
export type ProofResult = { status: 'secure' } | { status: 'insecure' | 'bogus' | 'unsupported'; reason: string };

/** An NSEC record as the proofs read it: owner, next owner, types at the owner. */
export interface Nsec {
  owner: string;
  next: string;
  types: string[];
}

export function nsecOf(record: DnsRecord): Nsec {
  const data = record.data as { nextDomain?: string; rrtypes?: string[] } | undefined;
  return { owner: normalizeName(record.name), next: normalizeName(data?.nextDomain ?? ''), types: data?.rrtypes ?? [] };
}

/** Whether the NSEC says `name` does not exist: strictly between owner and next (the last NSEC wraps to the apex). */
export function nsecCovers(nsec: Nsec, name: string): boolean {
  if (compareNames(nsec.owner, name) >= 0) return false;
  return compareNames(nsec.next, nsec.owner) <= 0 || compareNames(name, nsec.next) < 0;
}

const SECURE: ProofResult = { status: 'secure' };
const plain = (name: string) => name || '.';

/**
 * NXDOMAIN by NSEC (RFC 4035 section 5.4): one NSEC covers the name, and one covers the wildcard at the closest
 * encloser (the longest ancestor of the name that an NSEC's owner or next name is at or below).
 */
export function nsecNxdomain(all: Nsec[], qname: string, zone: string): ProofResult {
  const records = all.filter((n) => !isAncestorDelegation(n, qname));
  // An NSEC at the name, or one whose next name is below it (an empty non-terminal), says that it exists.
  if (records.some((n) => n.owner === qname || (nsecCovers(n, qname) && isWithin(n.next, qname))))
    return { status: 'bogus', reason: `an NSEC shows that ${plain(qname)} exists, which the NXDOMAIN denies` };
  const covering = records.find((n) => nsecCovers(n, qname));
  if (!covering) return { status: 'bogus', reason: `no NSEC proves that ${plain(qname)} does not exist` };
  const encloser = closestEncloser(qname, covering, zone);
  const wildcard = wildcardAt(encloser);
  if (!records.some((n) => nsecCovers(n, wildcard))) return { status: 'bogus', reason: `no NSEC proves that ${wildcard} does not exist` };
  return SECURE;
}

/**
 * NODATA by NSEC (RFC 4035 sections 3.1.3.1, 3.1.3.2 and 3.1.3.4): an NSEC at the name listing neither the type nor
 * CNAME; an empty non-terminal (an NSEC covering it whose next name is below it); or, from a wildcard, an NSEC
 * covering the name and one at the wildcard listing neither.
 */
export function nsecNodata(all: Nsec[], qname: string, type: string, zone: string): ProofResult {
  const exact = all.find((n) => n.owner === qname);
  if (exact && type !== 'DS' && isDelegation(exact))
    return { status: 'bogus', reason: `the NSEC of ${plain(qname)} is the parent's at a delegation: it denies nothing but DS there` };
  if (exact) return lacks(exact, type, qname);
  const records = all.filter((n) => !isAncestorDelegation(n, qname));
  const covering = records.find((n) => nsecCovers(n, qname));
  if (covering && isWithin(covering.next, qname) && covering.next !== qname) return SECURE;
  if (covering) {
    const wildcard = wildcardAt(closestEncloser(qname, covering, zone));
    const atWildcard = records.find((n) => n.owner === wildcard);
    if (atWildcard) return lacks(atWildcard, type, wildcard);
  }
  return { status: 'bogus', reason: `no NSEC proves that ${plain(qname)} has no ${type}` };
}

/**
 * A wildcard answer (RRSIG labels below the owner's) expanded at `encloser` (RFC 4035 section 5.3.4): an NSEC proves
 * that the name itself does not exist and that `encloser` is its closest encloser, so no closer name stood in the way.
 */
export function nsecWildcardAnswer(records: Nsec[], qname: string, encloser: string, zone: string): ProofResult {
  const proves = (n: Nsec) => nsecCovers(n, qname) && !isAncestorDelegation(n, qname) && closestEncloser(qname, n, zone) === encloser;
  if (records.some(proves)) return SECURE;
  return { status: 'bogus', reason: `a wildcard answer without an NSEC proving that ${plain(qname)} does not exist below ${wildcardAt(encloser)}` };
}

/** An NSEC at a delegation with no DS (RFC 4035 section 5.2, RFC 6840 section 4.4): NS, neither DS nor SOA. */
export function nsecNoDs(records: Nsec[], child: string): ProofResult {
  const exact = records.find((n) => n.owner === child);
  if (!exact) return { status: 'bogus', reason: `no DS for ${child} and no NSEC proving there is none` };
  if (exact.types.includes('DS')) return { status: 'bogus', reason: `the NSEC of ${child} lists a DS the referral left out` };
  if (!exact.types.includes('NS') || exact.types.includes('SOA')) return { status: 'bogus', reason: `the NSEC of ${child} is not that of a delegation` };
  return SECURE;
}

const isDelegation = (nsec: Nsec) => nsec.types.includes('NS') && !nsec.types.includes('SOA');

/**
 * An NSEC the parent owns at a delegation above `name` (RFC 6840 section 4.1): it says nothing of the names below the
 * cut, which the child's zone answers for, so it may not deny them.
 */
function isAncestorDelegation(nsec: Nsec, name: string): boolean {
  return isDelegation(nsec) && name !== nsec.owner && isWithin(name, nsec.owner);
}

function lacks(nsec: Nsec, type: string, name: string): ProofResult {
  const listed = nsec.types.includes(type) ? type : nsec.types.includes('CNAME') ? 'CNAME' : null;
  return listed ? { status: 'bogus', reason: `the NSEC of ${plain(name)} lists ${listed}, which the answer denies` } : SECURE;
}

/** The closest encloser an NSEC covering `qname` implies, never above the zone. */
function closestEncloser(qname: string, covering: Nsec, zone: string): string {
  const candidates = [commonAncestor(qname, covering.owner), commonAncestor(qname, covering.next), zone];
  return candidates.filter((c) => isWithin(c, zone)).sort((a, b) => b.length - a.length)[0]!;
}
