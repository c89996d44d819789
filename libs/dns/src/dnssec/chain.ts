import { ancestors, fqdn, isWithin, type DnsRecord } from '../wire.js';
import { labelCount } from './canonical.js';
import { verifyDenial, type DenialQuestion, type ProofResult } from './denial.js';
import { signaturesOver, verifyRrset, verifyRrsetAsync } from './rrset.js';
import type { DnskeyData, DsData, RrsigData, Verdict } from './types.js';
import { dnskeyRrset, unusableDs, validateZoneKeys } from './zone-keys.js';

/**
 * What DNSSEC says of an answer: bogus answers must not be used; insecure ones say why they are not secure, and
 * `unsupported` when it is an algorithm, digest or NSEC3 parameter this validator does not know (RFC 6840 5.2).
 */
export type DnssecStatus = { status: 'secure' } | { status: 'bogus'; reason: string } | { status: 'insecure'; reason: string; unsupported?: boolean };

/** A delegation as the parent's server gave it: the DS RRset (empty: no DS, an insecure delegation) and its RRSIGs. */
export interface ZoneCut {
  zone: string;
  ds: DnsRecord[];
  signatures: DnsRecord[];
  /** The parent's server that gave the referral. */
  server: string;
  /** The referral's authority section: with no DS, its NSEC or NSEC3 records say there is none. */
  authority?: DnsRecord[];
}

/** A final RRset (or a CNAME on the way) with its RRSIGs and the server of `zone` that gave it. */
export interface SignedAnswer {
  name: string;
  type: string;
  records: DnsRecord[];
  signatures: DnsRecord[];
  zone: string;
  server: string;
  /** The response's authority section: a wildcard answer's NSEC or NSEC3 proof is there. */
  authority?: DnsRecord[];
}

/** An NXDOMAIN or NODATA answer from a server of `zone`, with the authority section that should prove it. */
export interface SignedDenial {
  kind: 'nxdomain' | 'nodata';
  name: string;
  type: string;
  zone: string;
  server: string;
  authority: DnsRecord[];
}

/** A zone's DNSKEY RRset with its RRSIGs (the answer section), or why it could not be had. */
export type FetchedKeys = { records: DnsRecord[]; server: string } | { failure: string };

export interface ChainContext {
  trustAnchors: DsData[];
  /** The delegations crossed from the root to the answer's zone, by zone; absent: no referral was taken there. */
  cutOf(zone: string): ZoneCut | undefined;
  fetchKeys(zone: string): Promise<FetchedKeys>;
  now: Date;
  /**
   * Each zone's walk from the trust anchors, remembered by the caller across answers (one run): the chain to a zone
   * is the same for every name in it. Absent: every answer walks it again.
   */
  walks?: Map<string, Promise<ZoneKeysResult>>;
}

/** A zone's authenticated keys, or why there are none to use (insecure or bogus). */
export type ZoneKeysResult = { keys: DnskeyData[] } | DnssecStatus;

const plain = (name: string) => (name === '' ? '.' : name);

/**
 * The authenticated keys of `zone`, walked from the trust anchors down (RFC 4035 section 5): each zone's DNSKEY
 * RRset against the DS from its parent, each DS RRset against its parent's keys. A proven unsigned delegation on the
 * way ends the walk insecure; any failure ends it bogus.
 */
export function zoneKeysOf(target: string, context: ChainContext): Promise<ZoneKeysResult> {
  const walks = context.walks;
  if (!walks) return walkToZone(target, context);
  let walk = walks.get(target);
  if (!walk) {
    walk = walkToZone(target, context);
    walks.set(target, walk);
  }
  return walk;
}

async function walkToZone(target: string, context: ChainContext): Promise<ZoneKeysResult> {
  const zones = ancestors(target)
    .reverse()
    .filter((z) => z === '' || context.cutOf(z) !== undefined);
  let ds = context.trustAnchors;
  for (const [i, zone] of zones.entries()) {
    // A DS set this validator cannot use makes the zone insecure whatever its keys: no need to fetch them.
    const unusable = unusableDs(zone, ds);
    if (unusable) return judged(zone, unusable, i === 0 ? 'the trust anchor' : context.cutOf(zone)!.server)!;
    const fetched = await context.fetchKeys(zone);
    if ('failure' in fetched) return { status: 'bogus', reason: `${plain(zone)}: DNSKEY could not be fetched: ${fetched.failure}` };
    const zoneKeys = validateZoneKeys(zone, dnskeyRrset(zone, fetched.records), ds, context.now);
    const stop = judged(zone, zoneKeys.verdict, fetched.server);
    if (stop) return stop;
    const child = zones[i + 1];
    if (child === undefined) return { keys: zoneKeys.keys };
    const cut = context.cutOf(child)!;
    if (cut.ds.length === 0) return await unsignedDelegation(child, zone, cut, zoneKeys.keys, context.now);
    const dsVerdict = verifyRrset({ name: child, type: 'DS', records: cut.ds, signatures: cut.signatures }, zone, zoneKeys.keys, context.now);
    const dsStop = judged(child, dsVerdict, cut.server);
    if (dsStop) return dsStop;
    ds = cut.ds.map((r) => r.data as DsData);
  }
  return { status: 'bogus', reason: `${plain(target)}: no zone to validate it in` };
}

/** Validates an answer RRset from the trust anchors down; a wildcard expansion also needs its denial proof. */
export async function validateChain(answer: SignedAnswer, context: ChainContext): Promise<DnssecStatus> {
  const keys = await zoneKeysOf(answer.zone, context);
  if (!('keys' in keys)) return keys;
  const verdict = await answerVerdict(answer, keys.keys, context.now);
  const stop = judged(answer.name, verdict, answer.server);
  if (stop) return stop;
  const sigs = signaturesOver(answer.signatures, answer.name, answer.type).map((s) => s.data as RrsigData);
  const labels = Math.min(...sigs.map((s) => s.labels));
  if (labels >= labelCount(answer.name)) return { status: 'secure' };
  const question: DenialQuestion = { kind: 'wildcard', name: answer.name, labels };
  return proven(answer.name, await verifyDenial(question, answer.zone, answer.authority ?? [], keys.keys, context.now), answer.server);
}

/** Validates an NXDOMAIN or NODATA: the zone's keys from the trust anchors down, then its NSEC or NSEC3 proof. */
export async function validateDenial(denial: SignedDenial, context: ChainContext): Promise<DnssecStatus> {
  const keys = await zoneKeysOf(denial.zone, context);
  if (!('keys' in keys)) return keys;
  const question: DenialQuestion =
    denial.kind === 'nxdomain' ? { kind: 'nxdomain', name: denial.name } : { kind: 'nodata', name: denial.name, type: denial.type };
  return proven(denial.name, await verifyDenial(question, denial.zone, denial.authority, keys.keys, context.now), denial.server);
}

/** A delegation without DS: insecure when the parent's signed NSEC or NSEC3 proves it, else bogus. */
async function unsignedDelegation(child: string, parent: string, cut: ZoneCut, keys: DnskeyData[], now: Date): Promise<DnssecStatus> {
  const proof = await verifyDenial({ kind: 'no-ds', name: child }, parent, cut.authority ?? [], keys, now);
  if (proof.status === 'bogus' || proof.status === 'unsupported') return proven(child, proof, cut.server) as DnssecStatus;
  const how = (cut.authority ?? []).some((r) => r.type === 'NSEC3') ? 'NSEC3' : 'NSEC';
  return { status: 'insecure', reason: `no DS for ${plain(child)} at ${cut.server}: an insecure delegation (proven by ${how})` };
}

/**
 * The answer's own verdict, its signature checked off the event loop (no earlier answer had it); a signer below the
 * answer's zone is a zone cut this walk did not see.
 */
async function answerVerdict(answer: SignedAnswer, keys: DnskeyData[], now: Date): Promise<Verdict> {
  const sigs = signaturesOver(answer.signatures, answer.name, answer.type);
  const deeper = sigs.map((s) => (s.data as RrsigData).signersName.toLowerCase()).find((s) => s !== answer.zone && isWithin(s, answer.zone));
  if (deeper !== undefined) {
    return { status: 'unsupported', reason: `signed by ${fqdn(deeper)}, a zone cut without a referral, which is not validated yet` };
  }
  return verifyRrsetAsync({ name: answer.name, type: answer.type, records: answer.records, signatures: sigs }, answer.zone, keys, now);
}

/** A denial proof's result as the name's status. */
function proven(name: string, proof: ProofResult, server: string): DnssecStatus {
  if (proof.status === 'secure') return proof;
  const reason = `${plain(name)}: ${proof.reason} at ${server}`;
  if (proof.status === 'insecure') return { status: 'insecure', reason };
  return proof.status === 'bogus' ? { status: 'bogus', reason } : { status: 'insecure', reason, unsupported: true };
}

/** null when secure (go on); else the final status, naming the name, what failed and the server. */
function judged(name: string, verdict: Verdict, server: string): DnssecStatus | null {
  if (verdict.status === 'secure') return null;
  const reason = `${plain(name)}: ${verdict.reason} at ${server}`;
  return verdict.status === 'bogus' ? { status: 'bogus', reason } : { status: 'insecure', reason, unsupported: true };
}
