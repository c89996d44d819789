import { normalizeName, type DnsRecord } from '../wire.js';
import { labelCount, signedData } from './canonical.js';
import { keyTag } from './key-tag.js';
import { isSupportedAlgorithm, verifySignature } from './signature.js';
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

/**
 * Whether one RRSIG by `zone`'s keys over the RRset verifies and is inside its validity window at `now`. The reason
 * of a failure is the first one found, e.g. "RRSIG over A expired 2026-12-01T00:00:00Z".
 */
export function verifyRrset(rrset: SignedRrset, zone: string, keys: DnskeyData[], now: Date): Verdict {
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
  for (const sig of known) {
    const window = windowProblem(sig, now);
    if (window) {
      problems.push(`RRSIG over ${type} ${window}`);
      continue;
    }
    const candidates = keys.filter((k) => k.flags & ZONE_KEY_FLAG && k.algorithm === sig.algorithm && keyTag(k) === sig.keyTag);
    if (candidates.length === 0) {
      problems.push(`no DNSKEY of ${zone || '.'} with key tag ${sig.keyTag} for the RRSIG over ${type}`);
      continue;
    }
    const data = signedData(sig, rrset.records);
    if (candidates.some((k) => verifySignature(sig.algorithm, k.key, data, sig.signature))) return { status: 'secure' };
    problems.push(`RRSIG over ${type} (key tag ${sig.keyTag}) does not verify`);
  }
  return { status: 'bogus', reason: problems[0]! };
}
