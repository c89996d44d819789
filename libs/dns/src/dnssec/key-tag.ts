import type { DnskeyData } from './types.js';

/** A DNSKEY's RDATA: flags, protocol 3, algorithm, public key. */
export function dnskeyRdata(key: DnskeyData): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(key.flags, 0);
  head.writeUInt8(3, 2);
  head.writeUInt8(key.algorithm, 3);
  return Buffer.concat([head, Buffer.from(key.key)]);
}

/** The key tag of a DNSKEY (RFC 4034 appendix B: a 16-bit ones'-complement-style sum of the RDATA). */
export function keyTag(key: DnskeyData): number {
  const rdata = dnskeyRdata(key);
  let sum = 0;
  for (let i = 0; i < rdata.length; i++) sum += i & 1 ? rdata[i]! : rdata[i]! << 8;
  sum += (sum >>> 16) & 0xffff;
  return sum & 0xffff;
}
