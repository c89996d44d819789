import { ancestors, fqdn, isWithin, type DnsRecord } from '../wire.js';
import { verifyDsAbsence, type DsAbsenceProof } from './ds-absence.js';
import { signaturesOver, verifyRrset } from './rrset.js';
import type { DnskeyData, DsData, RrsigData, Verdict } from './types.js';
import { dnskeyRrset, validateZoneKeys } from './zone-keys.js';

/** What DNSSEC says of an answer: bogus answers must not be used; insecure ones say why they are not secure. */
export type DnssecStatus = { status: 'secure' } | { status: 'insecure' | 'bogus'; reason: string };

/** A delegation as the parent's server gave it: the DS RRset (empty: no DS, an insecure delegation) and its RRSIGs. */
export interface ZoneCut {
  zone: string;
  ds: DnsRecord[];
  signatures: DnsRecord[];
  /** The parent's server that gave the referral. */
  server: string;
  /** With no DS: the NSEC (or NSEC3) records that say there is none. */
  absence?: DsAbsenceProof;
}

/** A final RRset with its RRSIGs and the server of `zone` that gave it. */
export interface SignedAnswer {
  name: string;
  type: string;
  records: DnsRecord[];
  signatures: DnsRecord[];
  zone: string;
  server: string;
}

/** A zone's DNSKEY RRset with its RRSIGs (the answer section), or why it could not be had. */
export type FetchedKeys = { records: DnsRecord[]; server: string } | { failure: string };

export interface ChainContext {
  trustAnchors: DsData[];
  /** The delegations crossed from the root to the answer's zone, by zone; absent: no referral was taken there. */
  cutOf(zone: string): ZoneCut | undefined;
  fetchKeys(zone: string): Promise<FetchedKeys>;
  now: Date;
}

const plain = (name: string) => (name === '' ? '.' : name);

/**
 * Validates an answer from the trust anchors down (RFC 4035 section 5): each zone's DNSKEY RRset against the DS
 * from its parent, each DS RRset against its parent's keys, then the answer against its zone's keys. A delegation
 * without DS makes the answer insecure when the parent's NSEC proves it (an NSEC3 proof is not checked yet).
 */
export async function validateChain(answer: SignedAnswer, context: ChainContext): Promise<DnssecStatus> {
  const zones = ancestors(answer.zone)
    .reverse()
    .filter((z) => z === '' || context.cutOf(z) !== undefined);
  let ds = context.trustAnchors;
  for (const [i, zone] of zones.entries()) {
    const fetched = await context.fetchKeys(zone);
    if ('failure' in fetched) return { status: 'bogus', reason: `${plain(zone)}: DNSKEY could not be fetched: ${fetched.failure}` };
    const zoneKeys = validateZoneKeys(zone, dnskeyRrset(zone, fetched.records), ds, context.now);
    const stop = judged(zone, zoneKeys.verdict, fetched.server);
    if (stop) return stop;
    const child = zones[i + 1];
    if (child === undefined) return judged(answer.name, answerVerdict(answer, zoneKeys.keys, context.now), answer.server) ?? { status: 'secure' };
    const cut = context.cutOf(child)!;
    if (cut.ds.length === 0) return unsignedDelegation(child, zone, cut, zoneKeys.keys, context.now);
    const dsVerdict = verifyRrset({ name: child, type: 'DS', records: cut.ds, signatures: cut.signatures }, zone, zoneKeys.keys, context.now);
    const dsStop = judged(child, dsVerdict, cut.server);
    if (dsStop) return dsStop;
    ds = cut.ds.map((r) => r.data as DsData);
  }
  return { status: 'bogus', reason: `${plain(answer.name)}: no zone to validate it in` };
}

/** A delegation without DS: insecure when its absence is proven (or the proof is NSEC3, not checked yet), else bogus. */
function unsignedDelegation(child: string, parent: string, cut: ZoneCut, keys: DnskeyData[], now: Date): DnssecStatus {
  const proof = cut.absence ?? { nsec: [], signatures: [], nsec3: false };
  const verdict = verifyDsAbsence(child, parent, proof, keys, now);
  if (verdict.status === 'bogus') return { status: 'bogus', reason: `${plain(child)}: ${verdict.reason} at ${cut.server}` };
  const how = verdict.status === 'secure' ? 'proven by NSEC' : verdict.reason;
  return { status: 'insecure', reason: `no DS for ${plain(child)} at ${cut.server}: an insecure delegation (${how})` };
}

/** The answer's own verdict; a signer below the answer's zone is a zone cut this walk did not see. */
function answerVerdict(answer: SignedAnswer, keys: DnskeyData[], now: Date): Verdict {
  const sigs = signaturesOver(answer.signatures, answer.name, answer.type);
  const deeper = sigs.map((s) => (s.data as RrsigData).signersName.toLowerCase()).find((s) => s !== answer.zone && isWithin(s, answer.zone));
  if (deeper !== undefined) {
    return { status: 'unsupported', reason: `signed by ${fqdn(deeper)}, a zone cut without a referral, which is not validated yet` };
  }
  return verifyRrset({ name: answer.name, type: answer.type, records: answer.records, signatures: sigs }, answer.zone, keys, now);
}

/** null when secure (go on); else the final status, naming the name, what failed and the server. */
function judged(name: string, verdict: Verdict, server: string): DnssecStatus | null {
  if (verdict.status === 'secure') return null;
  const status = verdict.status === 'bogus' ? 'bogus' : 'insecure';
  return { status, reason: `${plain(name)}: ${verdict.reason} at ${server}` };
}
