import type { DnsRecord } from '../wire.js';
import { dsMatchesKey, isSupportedDigest } from './ds-digest.js';
import { verifyRrset, type SignedRrset } from './rrset.js';
import { isSupportedAlgorithm } from './signature.js';
import type { DnskeyData, DsData, Verdict } from './types.js';

/** A zone's DNSKEY RRset judged against the DS set from its parent (or the trust anchors for the root). */
export type ZoneKeys = { verdict: Verdict; keys: DnskeyData[] };

/**
 * Authenticates `zone`'s DNSKEY RRset (RFC 4035 section 5.2): a DNSKEY that a usable DS designates must sign it.
 * No DS with an algorithm and digest type this code knows: `unsupported` (insecure, RFC 6840 section 5.2).
 */
export function validateZoneKeys(zone: string, dnskeys: SignedRrset, ds: DsData[], now: Date): ZoneKeys {
  const name = zone || '.';
  const unusable = unusableDs(zone, ds);
  if (unusable) return { verdict: unusable, keys: [] };
  const usable = ds.filter((d) => isSupportedAlgorithm(d.algorithm) && isSupportedDigest(d.digestType));
  const keys = dnskeys.records.filter((r) => r.type === 'DNSKEY').map((r) => r.data as DnskeyData);
  if (keys.length === 0) return { verdict: { status: 'bogus', reason: `${name} has a DS but no DNSKEY` }, keys: [] };
  const entry = keys.filter((k) => usable.some((d) => dsMatchesKey(zone, d, k)));
  if (entry.length === 0) {
    const tags = usable.map((d) => d.keyTag).join(', ');
    return { verdict: { status: 'bogus', reason: `no DNSKEY of ${name} matches its DS (key tag ${tags})` }, keys: [] };
  }
  const verdict = verifyRrset(dnskeys, zone, entry, now);
  if (verdict.status !== 'secure') return { verdict, keys: [] };
  return { verdict, keys };
}

/** `unsupported` when no DS of `zone` has an algorithm and digest type this code knows (RFC 4035 section 5.2); else null. */
export function unusableDs(zone: string, ds: DsData[]): Verdict | null {
  if (ds.some((d) => isSupportedAlgorithm(d.algorithm) && isSupportedDigest(d.digestType))) return null;
  const listed = ds.map((d) => `algorithm ${d.algorithm} digest ${d.digestType}`).join(', ');
  return { status: 'unsupported', reason: `no DS of ${zone || '.'} that this validator can use (${listed})` };
}

/** DNSKEY and RRSIG records of one response, as the RRset `verifyRrset` takes. */
export function dnskeyRrset(zone: string, answers: DnsRecord[]): SignedRrset {
  return { name: zone, type: 'DNSKEY', records: answers.filter((r) => r.type === 'DNSKEY' && r.name === zone), signatures: answers };
}
