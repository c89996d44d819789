import { dnsPacket } from '../packet.js';
import type { DnsRecord } from '../wire.js';
import type { RrsigData } from './types.js';
import { typeCode } from './type-codes.js';

/** dns-packet's per-type RDATA codec, which its typings leave out; encode() writes RDLENGTH then RDATA. */
const rdataCodec = (dnsPacket as unknown as { record(type: string): { encode(data: unknown): Buffer } }).record;

/** Types whose RDATA names are lower-cased in canonical form (RFC 4034 section 6.2 as RFC 6840 5.1 left it). */
const NAME_FIELDS: Record<string, string[]> = {
  NS: [''],
  CNAME: [''],
  PTR: [''],
  DNAME: [''],
  SOA: ['mname', 'rname'],
  MX: ['exchange'],
  SRV: ['target'],
  RP: ['mbox', 'txt'],
};

/** A name in uncompressed wire form, lower case ('' or '.' is the root). */
export function canonicalNameWire(name: string): Buffer {
  const n = name.toLowerCase().replace(/\.$/, '');
  return dnsPacket.name.encode(n === '' ? '.' : n);
}

/** The number of labels of a name, not counting the root or a leading wildcard (RFC 4034 section 3.1.3). */
export function labelCount(name: string): number {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l !== '');
  return labels[0] === '*' ? labels.length - 1 : labels.length;
}

/** The RDATA of a record in canonical form: re-encoded without compression, names in it lower case. */
export function canonicalRdata(record: DnsRecord): Buffer {
  const fields = NAME_FIELDS[record.type];
  let data = record.data;
  if (fields && typeof data === 'string') data = data.toLowerCase();
  else if (fields && data && typeof data === 'object') {
    const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
    for (const f of fields) if (typeof copy[f] === 'string') copy[f] = (copy[f] as string).toLowerCase();
    data = copy;
  }
  const encoded = rdataCodec(record.type).encode(data);
  return encoded.subarray(2); // the RDLENGTH prefix
}

/** The owner name a signature covers: the wildcard that was expanded when the RRSIG has fewer labels. */
function signedOwner(owner: string, labels: number): string {
  const parts = owner
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l !== '');
  const n = labelCount(owner);
  if (labels >= n) return owner;
  return ['*', ...parts.slice(parts.length - labels)].join('.');
}

/** The RRSIG RDATA without its signature, the signer's name lower case (RFC 4034 section 3.1.8.1). */
function rrsigPrefix(sig: RrsigData): Buffer {
  const fixed = Buffer.alloc(18);
  fixed.writeUInt16BE(typeCode(sig.typeCovered), 0);
  fixed.writeUInt8(sig.algorithm, 2);
  fixed.writeUInt8(sig.labels, 3);
  fixed.writeUInt32BE(sig.originalTTL >>> 0, 4);
  fixed.writeUInt32BE(sig.expiration >>> 0, 8);
  fixed.writeUInt32BE(sig.inception >>> 0, 12);
  fixed.writeUInt16BE(sig.keyTag, 16);
  return Buffer.concat([fixed, canonicalNameWire(sig.signersName)]);
}

/**
 * The octets an RRSIG signs: its own fields, then each record of the RRset in canonical form (owner lower case,
 * the RRSIG's original TTL), sorted by RDATA and without duplicates (RFC 4034 sections 3.1.8.1 and 6.3).
 */
export function signedData(sig: RrsigData, records: DnsRecord[]): Buffer {
  if (records.length === 0) throw new Error('an empty RRset has no signed form');
  const owner = canonicalNameWire(signedOwner(records[0]!.name, sig.labels));
  const rdatas = records.map(canonicalRdata).sort(Buffer.compare);
  const unique = rdatas.filter((r, i) => i === 0 || !r.equals(rdatas[i - 1]!));
  const parts: Buffer[] = [rrsigPrefix(sig)];
  for (const rdata of unique) {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(typeCode(records[0]!.type), 0);
    fixed.writeUInt16BE(1, 2); // class IN
    fixed.writeUInt32BE(sig.originalTTL >>> 0, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    parts.push(owner, fixed, rdata);
  }
  return Buffer.concat(parts);
}
