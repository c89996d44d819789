import { readFileSync } from 'node:fs';
import type { DsData } from './types.js';

/**
 * The root zone's trust anchors as IANA publishes them (KSK-2017 and KSK-2024, RSA/SHA-256, SHA-256 digests): both,
 * so that the root's key rollover needs no new release.
 */
export const IANA_ROOT_TRUST_ANCHORS: readonly DsData[] = [
  { keyTag: 20326, algorithm: 8, digestType: 2, digest: Buffer.from('E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D', 'hex') },
  { keyTag: 38696, algorithm: 8, digestType: 2, digest: Buffer.from('683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16', 'hex') },
];

const DS_LINE = /^\.\s+(?:\d+\s+)?(?:IN\s+)?DS\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9A-Fa-f\s]+)$/;

/**
 * Root DS records in zone-file form, one a line (`. IN DS 20326 8 2 E06D...`, a TTL allowed), as Debian's
 * /usr/share/dns/root.ds and `dig . DS` print them; blank lines and `;` comments are skipped. Throws on anything else.
 */
export function parseTrustAnchors(text: string): DsData[] {
  const anchors: DsData[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/;.*$/, '').trim();
    if (line === '') continue;
    const m = DS_LINE.exec(line);
    const digest = m?.[4]!.replace(/\s/g, '') ?? '';
    if (!m || digest.length % 2 !== 0)
      throw new Error(`line ${i + 1}: not a DS record of the root (". IN DS <tag> <algorithm> <digest type> <hex>"): ${raw.trim()}`);
    anchors.push({ keyTag: Number(m[1]), algorithm: Number(m[2]), digestType: Number(m[3]), digest: Buffer.from(digest, 'hex') });
  }
  if (anchors.length === 0) throw new Error('no DS record in the trust anchor file');
  return anchors;
}

/** parseTrustAnchors over a file; the error names the file. */
export function readTrustAnchors(path: string): DsData[] {
  try {
    return parseTrustAnchors(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`trust anchor file ${path}: ${(error as Error).message}`);
  }
}
