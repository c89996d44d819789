import { normalizeName, type DnsRecord } from '../wire.js';
import { nsecNodata, nsecNoDs, nsecNxdomain, nsecOf, nsecWildcardAnswer, type Nsec, type ProofResult } from './nsec.js';
import { nsec3Nodata, nsec3NoDs, nsec3Nxdomain, nsec3Of, nsec3WildcardAnswer, usableNsec3, type Nsec3 } from './nsec3.js';
import { suffixOf } from './name-order.js';
import { signaturesOver, verifyRrsetAsync } from './rrset.js';
import type { DnskeyData } from './types.js';

export type { ProofResult } from './nsec.js';

/** What a denial is asked to prove. */
export type DenialQuestion =
  | { kind: 'nxdomain'; name: string }
  | { kind: 'nodata'; name: string; type: string }
  /** A wildcard answer: `labels` is its RRSIG's label count, below the name's. */
  | { kind: 'wildcard'; name: string; labels: number }
  /** A delegation without DS (`name` is the child, the zone its parent). */
  | { kind: 'no-ds'; name: string };

/** The NSEC or NSEC3 records of an authority section whose RRSIGs by `zone`'s keys verify; a failure is bogus. */
async function authenticated(authority: DnsRecord[], zone: string, keys: DnskeyData[], now: Date): Promise<{ nsec: Nsec[]; nsec3: Nsec3[] } | ProofResult> {
  const nsec: Nsec[] = [];
  const nsec3: Nsec3[] = [];
  for (const type of ['NSEC', 'NSEC3'] as const) {
    const owners = [...new Set(authority.filter((r) => r.type === type).map((r) => normalizeName(r.name)))];
    for (const owner of owners) {
      const records = authority.filter((r) => r.type === type && normalizeName(r.name) === owner);
      const verdict = await verifyRrsetAsync({ name: owner, type, records, signatures: signaturesOver(authority, records[0]!.name, type) }, zone, keys, now);
      if (verdict.status !== 'secure') return { status: verdict.status, reason: `${type} at ${owner}: ${verdict.reason}` };
      if (type === 'NSEC') nsec.push(nsecOf(records[0]!));
      else {
        const parsed = nsec3Of(records[0]!);
        if (parsed) nsec3.push(parsed);
      }
    }
  }
  return { nsec, nsec3 };
}

/**
 * Whether the signed NSEC or NSEC3 records of a response's authority section (`zone`'s, with its authenticated
 * keys) prove the denial asked (RFC 4035 section 5.4, RFC 5155 section 8). Secure: proved; insecure: opt-out;
 * unsupported: NSEC3 parameters this validator does not judge; bogus: a forged or missing proof.
 */
export async function verifyDenial(question: DenialQuestion, zone: string, authority: DnsRecord[], keys: DnskeyData[], now: Date): Promise<ProofResult> {
  const records = await authenticated(authority, zone, keys, now);
  if ('status' in records) return records;
  const name = normalizeName(question.name);
  if (records.nsec.length > 0) {
    switch (question.kind) {
      case 'nxdomain':
        return nsecNxdomain(records.nsec, name, zone);
      case 'nodata':
        return nsecNodata(records.nsec, name, question.type, zone);
      case 'wildcard':
        return nsecWildcardAnswer(records.nsec, name, suffixOf(name, question.labels), zone);
      case 'no-ds':
        return nsecNoDs(records.nsec, name);
    }
  }
  const nsec3 = usableNsec3(records.nsec3, zone);
  if (!Array.isArray(nsec3)) return nsec3;
  if (nsec3.length === 0) return { status: 'bogus', reason: missing(question) };
  switch (question.kind) {
    case 'nxdomain':
      return nsec3Nxdomain(nsec3, name, zone);
    case 'nodata':
      return nsec3Nodata(nsec3, name, question.type, zone);
    case 'wildcard':
      return nsec3WildcardAnswer(nsec3, name, suffixOf(name, question.labels));
    case 'no-ds':
      return nsec3NoDs(nsec3, name, zone);
  }
}

function missing(question: DenialQuestion): string {
  const name = question.name || '.';
  switch (question.kind) {
    case 'nxdomain':
      return `NXDOMAIN for ${name} without NSEC or NSEC3`;
    case 'nodata':
      return `no ${question.type} at ${name}, without NSEC or NSEC3`;
    case 'wildcard':
      return `a wildcard answer for ${name} without NSEC or NSEC3 proving that ${name} does not exist`;
    case 'no-ds':
      return `no DS for ${name} and no NSEC or NSEC3 proving there is none`;
  }
}
