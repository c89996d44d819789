import { createHash } from 'node:crypto';
import { ancestors, isWithin, normalizeName, type DnsRecord } from '../wire.js';
import { canonicalNameWire } from './canonical.js';
import { wildcardAt } from './name-order.js';
import type { ProofResult } from './nsec.js';

/** An NSEC3 record as the proofs read it (RFC 5155 section 3): the hash in its owner, the next hash, its types. */
export interface Nsec3 {
  owner: string;
  hash: Buffer;
  next: Buffer;
  algorithm: number;
  optOut: boolean;
  iterations: number;
  salt: Buffer;
  types: string[];
}

/**
 * Above this many extra iterations an NSEC3 proves nothing and the answer is insecure (RFC 9276 section 3.2 lets a
 * validator do so; BIND 9.18 and Unbound use 150).
 */
export const MAX_NSEC3_ITERATIONS = 150;
const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

export function base32hex(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32HEX[(value << (5 - bits)) & 31];
  return out;
}

function fromBase32hex(text: string): Buffer | null {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.toLowerCase()) {
    const digit = BASE32HEX.indexOf(ch);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The NSEC3 hash of a name (RFC 5155 section 5): SHA-1 over the canonical name and salt, then over itself and salt. */
export function nsec3Hash(name: string, salt: Uint8Array, iterations: number): Buffer {
  let digest = createHash('sha1').update(canonicalNameWire(name)).update(salt).digest();
  for (let i = 0; i < iterations; i++) digest = createHash('sha1').update(digest).update(salt).digest();
  return digest;
}

export function nsec3Of(record: DnsRecord): Nsec3 | null {
  const data = record.data as { algorithm?: number; flags?: number; iterations?: number; salt?: Buffer; nextDomain?: Buffer; rrtypes?: string[] } | undefined;
  const owner = normalizeName(record.name);
  const hash = fromBase32hex(owner.split('.')[0] ?? '');
  if (!data || !hash || !data.nextDomain || !data.salt) return null;
  return {
    owner,
    hash,
    next: Buffer.from(data.nextDomain),
    algorithm: data.algorithm ?? 0,
    optOut: ((data.flags ?? 0) & 1) === 1,
    iterations: data.iterations ?? 0,
    salt: Buffer.from(data.salt),
    types: data.rrtypes ?? [],
  };
}

const SECURE: ProofResult = { status: 'secure' };
const plain = (name: string) => name || '.';
const hashOf = (record: Nsec3, name: string) => nsec3Hash(name, record.salt, record.iterations);

/** Whether the NSEC3 is the one of `name`. */
function matches(record: Nsec3, name: string): boolean {
  return record.hash.equals(hashOf(record, name));
}

/** Whether the hash of `name` falls strictly between the NSEC3's owner hash and next hash (the last one wraps). */
function covers(record: Nsec3, name: string): boolean {
  const h = hashOf(record, name);
  const afterOwner = Buffer.compare(record.hash, h) < 0;
  const beforeNext = Buffer.compare(h, record.next) < 0;
  return Buffer.compare(record.next, record.hash) <= 0 ? afterOwner || beforeNext : afterOwner && beforeNext;
}

/**
 * The NSEC3 records a proof may use: SHA-1 (algorithm 1), owned in the zone, with at most MAX_NSEC3_ITERATIONS.
 * When none is left, the proof cannot be judged: `unsupported`, which makes the answer insecure (RFC 5155 section 8.1).
 */
export function usableNsec3(records: Nsec3[], zone: string): Nsec3[] | ProofResult {
  const inZone = records.filter((r) => isWithin(r.owner, zone) && r.owner !== zone);
  const usable = inZone.filter((r) => r.algorithm === 1 && r.iterations <= MAX_NSEC3_ITERATIONS);
  if (usable.length > 0 || inZone.length === 0) return usable;
  const r = inZone[0]!;
  const why = r.algorithm !== 1 ? `hash algorithm ${r.algorithm}` : `${r.iterations} iterations (above ${MAX_NSEC3_ITERATIONS})`;
  return { status: 'unsupported', reason: `NSEC3 of ${plain(zone)} with ${why}, which this validator does not judge` };
}

interface ClosestEncloser {
  encloser: string;
  nextCloser: string;
  /** The NSEC3 covering the next closer name has opt-out: an unsigned delegation may lie below it. */
  optOut: boolean;
}

/**
 * The closest encloser proof (RFC 5155 section 8.3): the longest ancestor of `qname` (itself excluded) with a
 * matching NSEC3 that is not a delegation or DNAME, and an NSEC3 covering the next closer name.
 */
function closestEncloser(records: Nsec3[], qname: string, zone: string): ClosestEncloser | string {
  const names = ancestors(qname).filter((n) => isWithin(n, zone));
  for (let i = 1; i < names.length; i++) {
    const encloser = names[i]!;
    const match = records.find((r) => matches(r, encloser));
    if (!match) continue;
    if (match.types.includes('DNAME') || (match.types.includes('NS') && !match.types.includes('SOA')))
      return `the NSEC3 closest encloser of ${plain(qname)} is a delegation or DNAME`;
    const nextCloser = names[i - 1]!;
    const cover = records.find((r) => covers(r, nextCloser));
    if (!cover) return `no NSEC3 covers ${plain(nextCloser)}, the next closer name of ${plain(qname)}`;
    return { encloser, nextCloser, optOut: cover.optOut };
  }
  return `no NSEC3 proves a closest encloser of ${plain(qname)}`;
}

/**
 * NXDOMAIN by NSEC3 (RFC 5155 section 8.4): the closest encloser proof and an NSEC3 covering the wildcard at the
 * closest encloser. Opt-out over the next closer name leaves the denial insecure: an unsigned delegation may be there.
 */
export function nsec3Nxdomain(records: Nsec3[], qname: string, zone: string): ProofResult {
  if (records.some((r) => matches(r, qname))) return { status: 'bogus', reason: `the NSEC3 of ${plain(qname)} says it exists` };
  const proof = closestEncloser(records, qname, zone);
  if (typeof proof === 'string') return { status: 'bogus', reason: proof };
  const wildcard = wildcardAt(proof.encloser);
  if (!records.some((r) => covers(r, wildcard))) return { status: 'bogus', reason: `no NSEC3 proves that ${wildcard} does not exist` };
  if (proof.optOut) return { status: 'insecure', reason: `the NSEC3 over ${plain(proof.nextCloser)} has opt-out: an unsigned delegation may be there` };
  return SECURE;
}

/**
 * NODATA by NSEC3 (RFC 5155 sections 8.5-8.7): the NSEC3 of the name lists neither the type nor CNAME; or, from a
 * wildcard, the closest encloser proof and the NSEC3 of the wildcard lists neither; or, for DS only, the closest
 * encloser proof with opt-out over the next closer name (an unsigned delegation: insecure).
 */
export function nsec3Nodata(records: Nsec3[], qname: string, type: string, zone: string): ProofResult {
  const exact = records.find((r) => matches(r, qname));
  // RFC 6840 section 4.1: the parent's NSEC3 at a delegation denies nothing at the child's apex but its DS.
  if (exact && type !== 'DS' && exact.types.includes('NS') && !exact.types.includes('SOA'))
    return { status: 'bogus', reason: `the NSEC3 of ${plain(qname)} is the parent's at a delegation: it denies nothing but DS there` };
  if (exact) return lacks(exact.types, type, qname);
  const proof = closestEncloser(records, qname, zone);
  if (typeof proof === 'string') return { status: 'bogus', reason: `no NSEC3 proves that ${plain(qname)} has no ${type} (${proof})` };
  const wildcard = wildcardAt(proof.encloser);
  const atWildcard = records.find((r) => matches(r, wildcard));
  if (atWildcard) return lacks(atWildcard.types, type, wildcard);
  if (type === 'DS' && proof.optOut) return { status: 'insecure', reason: `opt-out NSEC3 over ${plain(proof.nextCloser)}` };
  return { status: 'bogus', reason: `no NSEC3 proves that ${plain(qname)} has no ${type}` };
}

/** A wildcard answer by NSEC3 (RFC 5155 section 8.8): an NSEC3 covers the next closer name below the wildcard's. */
export function nsec3WildcardAnswer(records: Nsec3[], qname: string, encloser: string): ProofResult {
  const names = ancestors(qname);
  const nextCloser = names[names.indexOf(encloser) - 1];
  if (nextCloser !== undefined && records.some((r) => covers(r, nextCloser))) return SECURE;
  return { status: 'bogus', reason: `a wildcard answer without an NSEC3 proving that ${plain(qname)} does not exist` };
}

/**
 * No DS at a delegation by NSEC3 (RFC 5155 section 8.6): the NSEC3 of the child lists NS but neither DS nor SOA; or
 * none matches and an opt-out NSEC3 covers the next closer name (RFC 5155 section 6).
 */
export function nsec3NoDs(records: Nsec3[], child: string, parent: string): ProofResult {
  const exact = records.find((r) => matches(r, child));
  if (exact) {
    if (exact.types.includes('DS')) return { status: 'bogus', reason: `the NSEC3 of ${child} lists a DS the referral left out` };
    if (!exact.types.includes('NS') || exact.types.includes('SOA')) return { status: 'bogus', reason: `the NSEC3 of ${child} is not that of a delegation` };
    return SECURE;
  }
  const proof = closestEncloser(records, child, parent);
  if (typeof proof === 'string') return { status: 'bogus', reason: `no DS for ${child} and no NSEC3 proving there is none (${proof})` };
  if (!proof.optOut) return { status: 'bogus', reason: `no DS for ${child}: the NSEC3 over ${proof.nextCloser} has no opt-out` };
  return SECURE;
}

function lacks(types: string[], type: string, name: string): ProofResult {
  const listed = types.includes(type) ? type : types.includes('CNAME') ? 'CNAME' : null;
  return listed ? { status: 'bogus', reason: `the NSEC3 of ${plain(name)} lists ${listed}, which the answer denies` } : SECURE;
}
