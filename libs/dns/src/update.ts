import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { dnsPacket, type DecodedPacket } from './packet.js';
import { CertsmithError } from '@certsmith/core';
import { ANY_ADDRESS, type AddressPolicy } from './address-policy.js';
import { refusal } from './transport.js';
import { TSIG_ERRORS, findTsig, signMessage, verifyResponse, type TsigKey } from './tsig.js';
import { fqdn, normalizeName } from './wire.js';

/** One change of an RFC 2136 update. TXT values are split into 255-byte strings; CNAME data is a name. */
export type RecordChange =
  | { op: 'add'; name: string; type: 'TXT' | 'CNAME'; ttl: number; data: string }
  /** Deletes one record (class NONE): other values at the same name stay. */
  | { op: 'delete'; name: string; type: 'TXT' | 'CNAME'; data: string }
  /** Deletes every record of the type at the name (class ANY). */
  | { op: 'delete-rrset'; name: string; type: 'TXT' | 'CNAME' };

export interface UpdateTarget {
  zone: string;
  /** Address of the primary server that accepts updates. */
  server: string;
  port: number;
  key: TsigKey;
  timeoutMs: number;
  /** Which servers may be sent an update; default ANY_ADDRESS. */
  addressPolicy?: AddressPolicy;
}

const TYPES = { TXT: 16, CNAME: 5 } as const;
const CLASS_IN = 1;
const CLASS_NONE = 254;
const CLASS_ANY = 255;

/**
 * Sends one signed dynamic update (RFC 2136, TSIG HMAC-SHA256) over TCP and checks the signed answer.
 * A refused update, a rejected key or a response that does not verify throws a CertsmithError naming
 * the zone and the server; the secret is never part of a message.
 */
export async function sendUpdate(target: UpdateTarget, changes: RecordChange[], signal: AbortSignal): Promise<void> {
  const zone = normalizeName(target.zone);
  const where = `zone ${fqdn(zone)} on ${target.server}:${target.port}`;
  const refused = refusal(target.server, target.addressPolicy ?? ANY_ADDRESS);
  if (refused && refused.kind !== 'response') throw new CertsmithError('DNS_UPDATE_UNREACHABLE', `dynamic update of ${where} failed: ${refused.detail}`);
  const message = encodeUpdate(zone, changes);
  const { signed, mac } = signMessage(message, target.key);
  let reply: Buffer;
  try {
    reply = await exchangeTcp(target.server, target.port, signed, target.timeoutMs, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new CertsmithError('DNS_UPDATE_UNREACHABLE', `dynamic update of ${where} failed: ${(error as Error).message}`, { cause: error });
  }
  let decoded: DecodedPacket & { rcode?: string; opcode?: string };
  try {
    decoded = dnsPacket.decode(reply) as typeof decoded;
  } catch {
    throw new CertsmithError('DNS_UPDATE_MALFORMED', `dynamic update of ${where}: the server's answer does not decode`);
  }
  if (decoded.id !== message.readUInt16BE(0) || !decoded.flag_qr)
    throw new CertsmithError('DNS_UPDATE_MALFORMED', `dynamic update of ${where}: the answer does not match the request`);
  const tsig = findTsig(reply);
  const rcode = decoded.rcode ?? 'UNKNOWN';
  if (rcode === 'NOTAUTH' || (tsig && tsig.error !== 0)) {
    const why = tsig && tsig.error ? (TSIG_ERRORS[tsig.error] ?? `TSIG error ${tsig.error}`) : 'NOTAUTH';
    throw new CertsmithError(
      'DNS_TSIG_REJECTED',
      `${target.key} was rejected for ${where} (${why}): check the key name and secret against the server's allow-update`,
    );
  }
  const unverified = verifyResponse(reply, mac, target.key);
  if (unverified) throw new CertsmithError('DNS_TSIG_INVALID', `dynamic update of ${where}: ${unverified}`);
  if (rcode !== 'NOERROR') {
    const code = rcode === 'REFUSED' ? 'DNS_UPDATE_REFUSED' : 'DNS_UPDATE_FAILED';
    const hint = rcode === 'REFUSED' ? ' (is the key allowed to update this zone?)' : rcode === 'NOTZONE' ? ' (a name is outside the zone)' : '';
    throw new CertsmithError(code, `dynamic update of ${where} answered ${rcode}${hint}`);
  }
}

/** The unsigned UPDATE message: zone section, then the update section (no prerequisites). */
export function encodeUpdate(zone: string, changes: RecordChange[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(randomInt(0, 65536), 0);
  header.writeUInt16BE(5 << 11, 2); // opcode UPDATE
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(0, 6);
  header.writeUInt16BE(changes.length, 8);
  header.writeUInt16BE(0, 10);
  const zoneSection = Buffer.concat([wire(zone), u16(6), u16(CLASS_IN)]);
  const updates = changes.map((change) => {
    const name = normalizeName(change.name);
    if (zone !== '' && name !== zone && !name.endsWith(`.${zone}`)) {
      throw new CertsmithError('DNS_UPDATE_OUTSIDE_ZONE', `${fqdn(name)} is not inside zone ${fqdn(zone)}`);
    }
    const type = TYPES[change.type];
    if (change.op === 'delete-rrset') return Buffer.concat([wire(name), u16(type), u16(CLASS_ANY), u32(0), u16(0)]);
    const rdata = change.type === 'TXT' ? txtRdata(change.data) : wire(normalizeName(change.data));
    const klass = change.op === 'add' ? CLASS_IN : CLASS_NONE;
    const ttl = change.op === 'add' ? change.ttl : 0;
    return Buffer.concat([wire(name), u16(type), u16(klass), u32(ttl), u16(rdata.length), rdata]);
  });
  return Buffer.concat([header, zoneSection, ...updates]);
}

function txtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length || parts.length === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

function wire(name: string): Buffer {
  return dnsPacket.name.encode(name === '' ? '.' : name);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** One DNS message over TCP (2-byte length prefix both ways). */
function exchangeTcp(host: string, port: number, message: Buffer, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | null, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(value!);
    };
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error('connection closed before an answer')));
    socket.on('connect', () => socket.write(Buffer.concat([u16(message.length), message])));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length >= 2 && buffer.length >= buffer.readUInt16BE(0) + 2) finish(null, buffer.subarray(2, buffer.readUInt16BE(0) + 2));
    });
  });
}
