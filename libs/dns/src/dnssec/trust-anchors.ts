import { readFileSync } from 'node:fs';
import { UsageError } from '@certsmith/core';
import { dsDigest } from './ds-digest.js';
import { keyTag } from './key-tag.js';
import type { DnskeyData, DsData } from './types.js';

/**
 * The root zone's trust anchors as IANA publishes them (KSK-2017 and KSK-2024, RSA/SHA-256, SHA-256 digests): both,
 * so that the root's key rollover needs no new release.
 */
export const IANA_ROOT_TRUST_ANCHORS: readonly DsData[] = [
  { keyTag: 20326, algorithm: 8, digestType: 2, digest: Buffer.from('E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D', 'hex') },
  { keyTag: 38696, algorithm: 8, digestType: 2, digest: Buffer.from('683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16', 'hex') },
];

const DS_LINE = /^\.\s+(?:\d+\s+)?(?:IN\s+)?DS\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9A-Fa-f\s]+)$/;
const DNSKEY_LINE = /^\.\s+(?:\d+\s+)?(?:IN\s+)?DNSKEY\s+(\d+)\s+3\s+(\d+)\s+([A-Za-z0-9+/=\s]+)$/;
const EXPECTED = 'a DS or DNSKEY record of the root (". IN DS <tag> <algorithm> <digest type> <hex>" or ". IN DNSKEY 257 3 <algorithm> <base64>")';

/** One line as a root trust anchor; a DNSKEY (a secure entry point, flag 257) becomes its SHA-256 DS. */
function anchorOf(line: string): DsData | null {
  const ds = DS_LINE.exec(line);
  if (ds) {
    const digest = ds[4]!.replace(/\s/g, '');
    if (digest.length === 0 || digest.length % 2 !== 0) return null;
    return { keyTag: Number(ds[1]), algorithm: Number(ds[2]), digestType: Number(ds[3]), digest: Buffer.from(digest, 'hex') };
  }
  const dnskey = DNSKEY_LINE.exec(line);
  if (!dnskey || Number(dnskey[1]) !== 257) return null;
  const key: DnskeyData = { flags: 257, algorithm: Number(dnskey[2]), key: Buffer.from(dnskey[3]!.replace(/\s/g, ''), 'base64') };
  if (key.key.length === 0) return null;
  return { keyTag: keyTag(key), algorithm: key.algorithm, digestType: 2, digest: dsDigest('', key, 2) };
}

/**
 * Root trust anchors in zone-file form, one a line: DS records (`. IN DS 20326 8 2 E06D...`, a TTL allowed), as
 * Debian's /usr/share/dns/root.ds and `dig . DS` print them, or the root's key-signing DNSKEY records (flags 257);
 * blank lines and `;` comments are skipped. Throws on anything else, naming the line.
 */
export function parseTrustAnchors(text: string): DsData[] {
  const anchors: DsData[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/;.*$/, '').trim();
    if (line === '') continue;
    const anchor = anchorOf(line);
    if (!anchor) throw new Error(`line ${i + 1}: not ${EXPECTED}: ${raw.trim().slice(0, 80)}`);
    anchors.push(anchor);
  }
  if (anchors.length === 0) throw new Error(`no trust anchor in it (expected ${EXPECTED})`);
  return anchors;
}

/** parseTrustAnchors over a file; a bad or unreadable file is a UsageError naming it (DNSSEC_TRUST_ANCHOR_INVALID). */
export function readTrustAnchors(path: string): DsData[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError('DNSSEC_TRUST_ANCHOR_INVALID', `${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return parseTrustAnchors(text);
  } catch (error) {
    throw new UsageError('DNSSEC_TRUST_ANCHOR_INVALID', `${path}: ${(error as Error).message}`);
  }
}
