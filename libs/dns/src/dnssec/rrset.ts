import { normalizeName, type DnsRecord } from '../wire.js';
import { labelCount, signedData } from './canonical.js';
import { keyTag } from './key-tag.js';
import { isSupportedAlgorithm, verifySignature, verifySignatureAsync } from './signature.js';
import { ZONE_KEY_FLAG, type DnskeyData, type RrsigData, type Verdict } from './types.js';
import { windowProblem } from './validity.js';

/** One RRset with the RRSIG records that came with it (any RRSIGs: those over other types are ignored). */
export interface SignedRrset {
  name: string;
  type: string;
  records: DnsRecord[];
  signatures: DnsRecord[];
}

/** The RRSIGs of a response section that cover `type` at `name`. */
export function signaturesOver(records: DnsRecord[], name: string, type: string): DnsRecord[] {
  return records.filter((r) => r.type === 'RRSIG' && r.name === name && (r.data as RrsigData | undefined)?.typeCovered === type);
}

/** One RRSIG to check against the keys it may be by, over the RRset's signed form. */
interface Attempt {
  sig: RrsigData;
  keys: DnskeyData[];
  data: Buffer;
}

/**
 * What there is to check before any signature is: a verdict already (no RRSIG, unknown algorithms), or the RRSIGs
 * inside their validity window with the keys of the same tag, and the problems of the others.
 */
function attemptsFor(rrset: SignedRrset, zone: string, keys: DnskeyData[], now: Date): Verdict | { attempts: Attempt[]; problems: string[] } {
  const type = rrset.type;
  const sigs = rrset.signatures
    .filter((r) => r.type === 'RRSIG' && normalizeName(r.name) === normalizeName(rrset.name))
    .map((r) => r.data as RrsigData)
    .filter((s) => s.typeCovered === type && normalizeName(s.signersName) === normalizeName(zone) && s.labels <= labelCount(rrset.name));
  if (sigs.length === 0) return { status: 'bogus', reason: `no RRSIG over ${type} by ${zone || '.'}` };
  const known = sigs.filter((s) => isSupportedAlgorithm(s.algorithm));
  if (known.length === 0) {
    const algorithms = [...new Set(sigs.map((s) => s.algorithm))].join(', ');
    return { status: 'unsupported', reason: `RRSIG over ${type} uses algorithm ${algorithms}, which this validator does not implement` };
  }
  const problems: string[] = [];
  const attempts: Attempt[] = [];
  for (const sig of known) {
    const window = windowProblem(sig, now);
    const candidates = keys.filter((k) => k.flags & ZONE_KEY_FLAG && k.algorithm === sig.algorithm && keyTag(k) === sig.keyTag);
    if (window) problems.push(`RRSIG over ${type} ${window}`);
    else if (candidates.length === 0) problems.push(`no DNSKEY of ${zone || '.'} with key tag ${sig.keyTag} for the RRSIG over ${type}`);
    else attempts.push({ sig, keys: candidates, data: signedData(sig, rrset.records) });
  }
  return { attempts, problems };
}

const failed = (type: string, sig: RrsigData) => `RRSIG over ${type} (key tag ${sig.keyTag}) does not verify`;

/**
 * Whether one RRSIG by `zone`'s keys over the RRset verifies and is inside its validity window at `now`. The reason
 * of a failure is the first one found, e.g. "RRSIG over A expired 2026-12-01T00:00:00Z".
 */
export function verifyRrset(rrset: SignedRrset, zone: string, keys: DnskeyData[], now: Date): Verdict {
  const plan = attemptsFor(rrset, zone, keys, now);
  if ('status' in plan) return plan;
  for (const { sig, keys: candidates, data } of plan.attempts) {
    if (candidates.some((k) => verifySignature(sig.algorithm, k.key, data, sig.signature))) return { status: 'secure' };
    plan.problems.push(failed(rrset.type, sig));
  }
  return { status: 'bogus', reason: plan.problems[0]! };
}

/** verifyRrset with the signatures checked off the event loop (for RRsets no earlier answer had). */
export async function verifyRrsetAsync(rrset: SignedRrset, zone: string, keys: DnskeyData[], now: Date): Promise<Verdict> {
  const plan = attemptsFor(rrset, zone, keys, now);
  if ('status' in plan) return plan;
  for (const { sig, keys: candidates, data } of plan.attempts) {
    for (const k of candidates) if (await verifySignatureAsync(sig.algorithm, k.key, data, sig.signature)) return { status: 'secure' };
    plan.problems.push(failed(rrset.type, sig));
  }
  return { status: 'bogus', reason: plan.problems[0]! };
}
