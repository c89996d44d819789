import type { DnsRecord } from '../wire.js';
import { verifyDenial } from './denial.js';
import { verifyRrsetAsync } from './rrset.js';
import type { DnskeyData, DsData } from './types.js';

/**
 * A name's DS RRset as the servers of the zone above it answered a DS question (RFC 4035 section 3.1.4.1: the parent
 * side answers it), with its RRSIGs; empty: a NODATA or NXDOMAIN whose authority section should prove why.
 */
/** `transient`: no server answered this time (a timeout, SERVFAIL); another ask may get the answer. */
export type FetchedDs = { ds: DnsRecord[]; signatures: DnsRecord[]; authority: DnsRecord[]; server: string } | { failure: string; transient?: boolean };

/**
 * Whether a name below `zone` is a zone cut that no referral showed (a server of both zones answers from the child):
 * `signed` with its DS set; `none` when the zone proves the name is no delegation (an NSEC/NSEC3 at it without NS,
 * or an empty non-terminal); `stop` when the walk ends at it: an unsigned delegation proved (insecure), or a DS or a
 * denial that does not verify (bogus); a reason without the name.
 */
export type CutFinding = { kind: 'signed'; ds: DsData[] } | { kind: 'none' } | { kind: 'stop'; status: 'insecure' | 'bogus' | 'unsupported'; reason: string };

/** Judges the DS answer for `name` from a server of `zone`, by `zone`'s authenticated keys. */
export async function cutAt(name: string, zone: string, fetched: Exclude<FetchedDs, { failure: string }>, keys: DnskeyData[], now: Date): Promise<CutFinding> {
  if (fetched.ds.length > 0) {
    const rrset = { name, type: 'DS', records: fetched.ds, signatures: fetched.signatures };
    const verdict = await verifyRrsetAsync(rrset, zone, keys, now);
    if (verdict.status !== 'secure') return { kind: 'stop', status: verdict.status, reason: verdict.reason };
    return { kind: 'signed', ds: fetched.ds.map((r) => r.data as DsData) };
  }
  const noDs = await verifyDenial({ kind: 'no-ds', name }, zone, fetched.authority, keys, now);
  if (noDs.status === 'secure' || noDs.status === 'insecure') {
    const how = fetched.authority.some((r) => r.type === 'NSEC3') ? 'NSEC3' : 'NSEC';
    return { kind: 'stop', status: 'insecure', reason: `an insecure delegation that no referral showed (proven by ${how})` };
  }
  if (noDs.status === 'unsupported') return { kind: 'stop', status: 'unsupported', reason: noDs.reason };
  const noCut = await verifyDenial({ kind: 'nodata', name, type: 'DS' }, zone, fetched.authority, keys, now);
  if (noCut.status === 'secure') return { kind: 'none' };
  return { kind: 'stop', status: 'bogus', reason: noDs.reason };
}
