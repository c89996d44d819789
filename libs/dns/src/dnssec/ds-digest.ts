import { createHash } from 'node:crypto';
import { canonicalNameWire } from './canonical.js';
import { dnskeyRdata, keyTag } from './key-tag.js';
import type { DnskeyData, DsData } from './types.js';

/** DS digest types this code computes (RFC 4509: SHA-256; RFC 6605: SHA-384); SHA-1 (1) is not accepted. */
const DIGESTS: Record<number, string> = { 2: 'sha256', 4: 'sha384' };

export function isSupportedDigest(digestType: number): boolean {
  return digestType in DIGESTS;
}

/** The DS digest of a zone's DNSKEY: hash(owner in canonical wire form | DNSKEY RDATA) (RFC 4034 section 5.1.4). */
export function dsDigest(owner: string, key: DnskeyData, digestType: number): Buffer {
  const hash = DIGESTS[digestType];
  if (!hash) throw new Error(`unsupported DS digest type ${digestType}`);
  return createHash(hash)
    .update(Buffer.concat([canonicalNameWire(owner), dnskeyRdata(key)]))
    .digest();
}

/** Whether a DS designates this DNSKEY of `owner`: same key tag, algorithm and digest. */
export function dsMatchesKey(owner: string, ds: DsData, key: DnskeyData): boolean {
  if (!isSupportedDigest(ds.digestType) || ds.algorithm !== key.algorithm || ds.keyTag !== keyTag(key)) return false;
  return dsDigest(owner, key, ds.digestType).equals(Buffer.from(ds.digest));
}
