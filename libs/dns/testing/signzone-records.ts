// Test-only: records of BIND's `dnssec-signzone -O full` output (signed at test time, no key committed) as dns-packet
// decodes them, for the DNSSEC tests that check certsmith's validation against BIND's signatures.
import type { DnsRecord } from '../src/wire.js';
import type { DsData, RrsigData } from '../src/dnssec/types.js';

/** YYYYMMDDHHMMSS (UTC) to seconds since the epoch. */
export const signzoneSeconds = (t: string) =>
  Date.UTC(+t.slice(0, 4), +t.slice(4, 6) - 1, +t.slice(6, 8), +t.slice(8, 10), +t.slice(10, 12), +t.slice(12, 14)) / 1000;

/** A DS record's fields (`<tag> <algorithm> <digest type> <digest ...>`) as dns-packet decodes them. */
export function dsData([tag, alg, digestType, ...digest]: string[]): DsData {
  return { keyTag: Number(tag), algorithm: Number(alg), digestType: Number(digestType), digest: Buffer.from(digest.join(''), 'hex') };
}

/** One line of `dnssec-signzone -O full` output as dns-packet would decode the record; null for others. */
export function signzoneRecord(line: string): DnsRecord | null {
  const [owner, ttl, , type, ...rest] = line.trim().split(/\s+/);
  if (!owner || !type || owner.startsWith(';')) return null;
  const base = { name: owner.replace(/\.$/, '').toLowerCase(), type, class: 'IN', ttl: Number(ttl) };
  const tail = (from: number) => Buffer.from(rest.slice(from).join(''), 'base64');
  switch (type) {
    case 'A':
      return { ...base, data: rest[0] };
    case 'MX':
      return { ...base, data: { preference: Number(rest[0]), exchange: rest[1]!.replace(/\.$/, '') } };
    case 'DNSKEY':
      return { ...base, data: { flags: Number(rest[0]), algorithm: Number(rest[2]), key: tail(3) } };
    case 'DS':
      return { ...base, data: dsData(rest) };
    case 'NSEC':
      // dns-packet decodes the root as '.'.
      return { ...base, data: { nextDomain: rest[0] === '.' ? '.' : rest[0]!.replace(/\.$/, ''), rrtypes: rest.slice(1) } };
    case 'RRSIG':
      return { ...base, data: rrsigData(rest) };
    default:
      return null;
  }
}

function rrsigData(rest: string[]): RrsigData {
  const [covered, alg, labels, original, expiration, inception, tag, signer] = rest;
  return {
    typeCovered: covered!,
    algorithm: Number(alg),
    labels: Number(labels),
    originalTTL: Number(original),
    expiration: signzoneSeconds(expiration!),
    inception: signzoneSeconds(inception!),
    keyTag: Number(tag),
    signersName: signer!.replace(/\.$/, ''),
    signature: Buffer.from(rest.slice(8).join(''), 'base64'),
  };
}
