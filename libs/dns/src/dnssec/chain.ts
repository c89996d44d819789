import { ancestors, isWithin, normalizeName, type DnsRecord } from '../wire.js';
import { labelCount } from './canonical.js';
import { verifyDenial, type DenialQuestion, type ProofResult } from './denial.js';
import { signaturesOver, verifyRrset, verifyRrsetAsync } from './rrset.js';
import type { DnskeyData, DsData, RrsigData, Verdict } from './types.js';
import { dnskeyRrset, unusableDs, validateZoneKeys } from './zone-keys.js';
import { cutAt, type FetchedDs } from './zone-cut.js';

export type { FetchedDs } from './zone-cut.js';

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
/** `transient`: no server answered this time (a timeout, SERVFAIL); another ask may get the keys. */
export type FetchedKeys = { records: DnsRecord[]; server: string } | { failure: string; transient?: boolean };

export interface ChainContext {
  trustAnchors: DsData[];
  /** The delegations crossed from the root to the answer's zone, by zone; absent: no referral was taken there. */
  cutOf(zone: string): ZoneCut | undefined;
  fetchKeys(zone: string): Promise<FetchedKeys>;
  /**
   * The DS answer for a name from the servers of the zone above it, to find a zone cut no referral showed (see
   * descend). Absent: such a cut is bogus.
   */
  fetchDs?(name: string): Promise<FetchedDs>;
  now: Date;
  /**
   * Each zone's walk from the trust anchors, remembered by the caller across answers (one run): the chain to a zone
   * is the same for every name in it. Absent: every answer walks it again.
   */
  walks?: Map<string, Promise<ZoneKeysResult>>;
}

/** A zone's authenticated keys (`zone`: the zone they are of, the deepest cut found), or why there are none to use. */
export type ZoneKeysResult = { keys: DnskeyData[]; zone: string } | DnssecStatus;

const plain = (name: string) => (name === '' ? '.' : name);

/**
 * The authenticated keys of `target`, walked from the trust anchors down (RFC 4035 section 5): each zone's DNSKEY
 * RRset against the DS from its parent, each DS RRset against its parent's keys, through the cuts the referrals
 * showed, then through any cut between the deepest of them and `target` that no referral showed (see descend). A
 * proven unsigned delegation on the way ends the walk insecure; any failure ends it bogus. With `unsignedOwner`,
 * `target` is the owner of an RRset that came without RRSIG: the walk looks for an unsigned delegation above it, and
 * gives the keys of the deepest signed zone when it finds none (the RRset is then judged bogus against them).
 */
export function zoneKeysOf(target: string, context: ChainContext, unsignedOwner = false): Promise<ZoneKeysResult> {
  const walks = context.walks;
  if (!walks) return walkToZone(target, context, unsignedOwner);
  const key = unsignedOwner ? `unsigned|${target}` : target;
  let walk = walks.get(key);
  if (!walk) {
    let transient = false;
    const note = <T extends object>(fetched: T): T => ((transient ||= 'transient' in fetched && fetched.transient === true), fetched);
    const noting: ChainContext = {
      ...context,
      fetchKeys: async (zone) => note(await context.fetchKeys(zone)),
      ...(context.fetchDs ? { fetchDs: async (name: string) => note(await context.fetchDs!(name)) } : {}),
    };
    const made = walkToZone(target, noting, unsignedOwner);
    walks.set(key, made);
    // A walk that threw (its asker's signal aborted), or that met a question no server answered this time, is not the
    // zone's verdict: the next answer walks again.
    const forget = () => walks.get(key) === made && walks.delete(key);
    made.then(() => transient && forget(), forget);
    walk = made;
  }
  return walk;
}

async function walkToZone(target: string, context: ChainContext, unsignedOwner: boolean): Promise<ZoneKeysResult> {
  const zones = ancestors(target)
    .reverse()
    .filter((z) => z === '' || context.cutOf(z) !== undefined);
  const deepest = zones.at(-1)!;
  if (deepest !== target) {
    // Below every referral: the walk to the deepest one is the same for every name under it.
    const above = await zoneKeysOf(deepest, context);
    return 'keys' in above ? await descend(above, target, context, unsignedOwner) : above;
  }
  let ds = context.trustAnchors;
  for (const [i, zone] of zones.entries()) {
    const entered = await enterZone(zone, ds, i === 0 ? 'the trust anchor' : context.cutOf(zone)!.server, context);
    const child = zones[i + 1];
    if (!('keys' in entered) || child === undefined) return entered;
    const cut = context.cutOf(child)!;
    if (cut.ds.length === 0) return await unsignedDelegation(child, zone, cut, entered.keys, context.now);
    const dsVerdict = verifyRrset({ name: child, type: 'DS', records: cut.ds, signatures: cut.signatures }, zone, entered.keys, context.now);
    const dsStop = judged(child, dsVerdict, cut.server);
    if (dsStop) return dsStop;
    ds = cut.ds.map((r) => r.data as DsData);
  }
  return { status: 'bogus', reason: `${plain(target)}: no zone to validate it in` };
}

/** A zone's keys authenticated by the DS set its parent (or the trust anchor) gave, or why not. */
async function enterZone(zone: string, ds: DsData[], dsServer: string, context: ChainContext): Promise<ZoneKeysResult> {
  // A DS set this validator cannot use makes the zone insecure whatever its keys: no need to fetch them.
  const unusable = unusableDs(zone, ds);
  if (unusable) return judged(zone, unusable, dsServer)!;
  const fetched = await context.fetchKeys(zone);
  if ('failure' in fetched) return { status: 'bogus', reason: `${plain(zone)}: DNSKEY could not be fetched: ${fetched.failure}` };
  const zoneKeys = validateZoneKeys(zone, dnskeyRrset(zone, fetched.records), ds, context.now);
  return judged(zone, zoneKeys.verdict, fetched.server) ?? { keys: zoneKeys.keys, zone };
}

/**
 * From a zone whose keys are known down to `target`, a name below it that no referral reached: a server of both
 * zones answers from the child, so the cut is found the way Unbound finds it, by asking the DS of each name between
 * (the parent side answers it). A signed cut moves the walk into the child; a proved unsigned delegation ends it
 * insecure. Under `unsignedOwner` a cut that cannot be proved either way ends the search at the zone reached; else
 * (a signer or SOA owner deeper than any referral) it is bogus, as is a target the zone proves is no cut.
 */
async function descend(start: { keys: DnskeyData[]; zone: string }, target: string, context: ChainContext, unsignedOwner: boolean): Promise<ZoneKeysResult> {
  let current = start;
  const names = ancestors(target)
    .reverse()
    .filter((n) => n !== current.zone && isWithin(n, current.zone));
  for (const name of names) {
    const fetched: FetchedDs = context.fetchDs ? await context.fetchDs(name) : { failure: 'no DS lookup' };
    if ('failure' in fetched) {
      if (unsignedOwner) return current;
      return { status: 'bogus', reason: `${plain(name)}: DS could not be fetched: ${fetched.failure}` };
    }
    const finding = await cutAt(name, current.zone, fetched, current.keys, context.now);
    const server = fetched.server;
    if (finding.kind === 'none') {
      if (name !== target || unsignedOwner) continue;
      return { status: 'bogus', reason: `${plain(target)}: signs an answer or owns its SOA, but ${plain(current.zone)} proves it is no zone cut at ${server}` };
    }
    if (finding.kind === 'stop') {
      if (finding.status === 'bogus' && unsignedOwner) return current;
      if (finding.status === 'insecure') return { status: 'insecure', reason: `no DS for ${plain(name)} at ${server}: ${finding.reason}` };
      return judged(name, { status: finding.status, reason: finding.reason }, server)!;
    }
    const entered = await enterZone(name, finding.ds, server, context);
    if (!('keys' in entered)) return entered;
    current = entered;
  }
  return current;
}

/**
 * Validates an answer RRset from the trust anchors down, in the zone its RRSIGs name (the zone asked, or one below it
 * that no referral showed); an RRset without RRSIG is insecure only below a proved unsigned delegation. A wildcard
 * expansion also needs its denial proof.
 */
export async function validateChain(answer: SignedAnswer, context: ChainContext): Promise<DnssecStatus> {
  const sigs = signaturesOver(answer.signatures, answer.name, answer.type);
  const keys = sigs.length === 0 ? await zoneKeysOf(answer.name, context, true) : await zoneKeysOf(signingZone(answer, sigs), context);
  if (!('keys' in keys)) return keys;
  // The answer's own signature is checked off the event loop: no earlier answer had it.
  const rrset = { name: answer.name, type: answer.type, records: answer.records, signatures: sigs };
  const stop = judged(answer.name, await verifyRrsetAsync(rrset, keys.zone, keys.keys, context.now), answer.server);
  if (stop) return stop;
  const labels = Math.min(...sigs.map((s) => (s.data as RrsigData).labels));
  if (labels >= labelCount(answer.name)) return { status: 'secure' };
  const question: DenialQuestion = { kind: 'wildcard', name: answer.name, labels };
  return proven(answer.name, await verifyDenial(question, keys.zone, answer.authority ?? [], keys.keys, context.now), answer.server);
}

/** The zone asked, or the signer its RRSIGs name below it and at or above the owner (a cut no referral showed). */
function signingZone(answer: SignedAnswer, sigs: DnsRecord[]): string {
  const signers = sigs.map((s) => normalizeName((s.data as RrsigData).signersName));
  return signers.find((s) => s !== answer.zone && isWithin(s, answer.zone) && isWithin(answer.name, s)) ?? answer.zone;
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
