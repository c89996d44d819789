import { randomInt } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { dnsPacket, type Answer, type DecodedPacket } from './packet.js';

/** The record types certsmith asks for. */
export type QueryType = 'A' | 'AAAA' | 'TXT' | 'CNAME' | 'NS' | 'SOA' | 'CAA' | 'DNSKEY' | 'DS';

/** One resource record as dns-packet decodes it (data depends on the type). */
export interface DnsRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
}

/** A decoded response that matched the query it answers. */
export interface DnsResponse {
  id: number;
  rcode: string;
  aa: boolean;
  tc: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** Our EDNS0 buffer: the DNS flag day 2020 size that avoids IP fragmentation. */
export const EDNS_UDP_SIZE = 1232;

/** Lower case, no trailing dot, IDNs as A-labels (xn--); '' stands for the root. */
export function normalizeName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.+$/, '');
  // Only a name with non-ASCII letters needs UTS #46 mapping; decoded wire names are left as they came.
  return /[^ -~]/.test(n) ? domainToASCII(n) || n : n;
}

/** Presentation form with the trailing dot, for messages and paths ('.' for the root). */
export function fqdn(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

/** Whether `name` is `zone` or below it (both normalized). */
export function isWithin(name: string, zone: string): boolean {
  if (zone === '') return true;
  return name === zone || name.endsWith(`.${zone}`);
}

/** The name itself and each ancestor, longest first, ending with the root ''. */
export function ancestors(name: string): string[] {
  const out: string[] = [];
  let n = name;
  while (n !== '') {
    out.push(n);
    const dot = n.indexOf('.');
    n = dot < 0 ? '' : n.slice(dot + 1);
  }
  out.push('');
  return out;
}

export interface EncodedQuery {
  id: number;
  name: string;
  type: QueryType;
  bytes: Buffer;
}

/** A non-recursive query with a fresh random 16-bit ID and an EDNS0 OPT record; `dnssecOk` sets its DO bit. */
export function encodeQuery(name: string, type: QueryType, dnssecOk = false): EncodedQuery {
  const id = randomInt(0, 65536);
  const bytes = dnsPacket.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ type, name: name === '' ? '.' : name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, flags: dnssecOk ? dnsPacket.DNSSEC_OK : 0 } as unknown as Answer],
  });
  return { id, name, type, bytes };
}

/** Why a datagram was not accepted as the answer to a query. */
export type Rejection = 'malformed' | 'mismatch';

/**
 * Decodes a datagram and checks that it answers `query`: a response, same ID, same single question.
 * Anything else (garbage, compression loops, a spoofed ID or question) is a rejection, never an exception.
 */
export function acceptResponse(bytes: Buffer, query: EncodedQuery): DnsResponse | Rejection {
  let packet: DecodedPacket & { rcode?: string };
  if (!countsFit(bytes)) return 'malformed';
  try {
    packet = dnsPacket.decode(bytes) as typeof packet;
  } catch {
    return 'malformed';
  }
  if (packet.id !== query.id || !packet.flag_qr) return 'mismatch';
  const questions = packet.questions ?? [];
  // A truncated response may legitimately carry the question only; anything but our one question is a spoof.
  if (questions.length !== 1) return 'mismatch';
  const q = questions[0]!;
  if (typeof q.name !== 'string' || normalizeName(q.name) !== query.name || q.type !== query.type || (q.class ?? 'IN') !== 'IN') return 'mismatch';
  const records = (list: unknown): DnsRecord[] | null => {
    if (!Array.isArray(list)) return [];
    for (const r of list)
      if (!r || typeof r !== 'object' || typeof (r as DnsRecord).name !== 'string' || typeof (r as DnsRecord).type !== 'string') return null;
    return (list as DnsRecord[]).map((r) => ({ ...r, name: normalizeName(r.name) }));
  };
  const answers = records(packet.answers);
  const authorities = records(packet.authorities);
  const additionals = records(packet.additionals);
  if (!answers || !authorities || !additionals) return 'malformed';
  return {
    id: packet.id,
    rcode: typeof packet.rcode === 'string' ? packet.rcode : 'UNKNOWN',
    aa: packet.flag_aa,
    tc: packet.flag_tc,
    answers,
    authorities,
    additionals,
  };
}

/**
 * Whether the header's section counts can fit in the message (a question takes at least 5 bytes, a record 11).
 * dns-packet allocates per count before it fails, so absurd counts are refused before decoding.
 */
function countsFit(bytes: Buffer): boolean {
  if (bytes.length < 12) return false;
  const questions = bytes.readUInt16BE(4);
  const records = bytes.readUInt16BE(6) + bytes.readUInt16BE(8) + bytes.readUInt16BE(10);
  return 12 + questions * 5 + records * 11 <= bytes.length;
}

/** TXT record data as strings (each record's character-strings joined, as RFC 7208 and ACME read them). */
export function txtValue(record: DnsRecord): string | null {
  if (record.type !== 'TXT') return null;
  const data = record.data;
  const parts = Array.isArray(data) ? data : [data];
  const out: string[] = [];
  for (const part of parts) {
    if (Buffer.isBuffer(part)) out.push(part.toString('utf8'));
    else if (typeof part === 'string') out.push(part);
    else return null;
  }
  return out.join('');
}

/** The name a CNAME/NS record points at, normalized; null when the data is not a name. */
export function nameData(record: DnsRecord): string | null {
  return typeof record.data === 'string' ? normalizeName(record.data) : null;
}

/** An address record's address; null when the data is not one. */
export function addressData(record: DnsRecord): string | null {
  if ((record.type === 'A' || record.type === 'AAAA') && typeof record.data === 'string') return record.data;
  return null;
}

/** Minimum TTL of a list (0 for an empty list), capped so that a hostile answer cannot pin the cache. */
export function ttlOf(records: DnsRecord[], cap = 86_400): number {
  let ttl = cap;
  for (const r of records) if (typeof r.ttl === 'number' && r.ttl >= 0) ttl = Math.min(ttl, r.ttl);
  return records.length ? ttl : 0;
}
