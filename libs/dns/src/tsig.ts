import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dnsPacket } from './packet.js';
import { CertsmithError, UsageError } from '@certsmith/core';
import { normalizeName } from './wire.js';

/** A TSIG key (RFC 8945). The secret never appears in messages, logs or toString(). */
export class TsigKey {
  readonly name: string;
  readonly algorithm = 'hmac-sha256';
  readonly #secret: Buffer;

  constructor(name: string, secret: Buffer) {
    this.name = normalizeName(name);
    this.#secret = secret;
  }

  hmac(): ReturnType<typeof createHmac> {
    return createHmac('sha256', this.#secret);
  }

  toString(): string {
    return `TSIG key "${this.name}" (${this.algorithm})`;
  }

  toJSON(): object {
    return { name: this.name, algorithm: this.algorithm };
  }
}

/**
 * Parses BIND's key format, as `tsig-keygen -a hmac-sha256 NAME` writes it:
 *   key "NAME" { algorithm hmac-sha256; secret "BASE64"; };
 */
export function parseBindKey(text: string, file = 'key file'): TsigKey {
  // Comments go, quoted strings stay: a base64 secret may hold '//' (seen: a random lab key cut short).
  const uncommented = text.replace(/"[^"]*"|(?:#|\/\/)[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith('"') ? m : ''));
  const block = /key\s+"?([^"\s{]+)"?\s*\{([\s\S]*?)\}\s*;/i.exec(uncommented);
  if (!block) throw new UsageError('TSIG_KEY_INVALID', `${file}: no key "NAME" { ... }; block (expected the output of tsig-keygen)`);
  const algorithm = /algorithm\s+"?([\w-]+)"?\s*;/i.exec(block[2]!)?.[1]?.toLowerCase();
  const secret = /secret\s+"([A-Za-z0-9+/=\s]+)"\s*;/i.exec(block[2]!)?.[1]?.replace(/\s+/g, '');
  if (algorithm !== 'hmac-sha256')
    throw new UsageError(
      'TSIG_KEY_INVALID',
      `${file}: key "${block[1]}" uses algorithm ${algorithm ?? '(none)'}; certsmith signs with hmac-sha256 (tsig-keygen -a hmac-sha256)`,
    );
  if (!secret) throw new UsageError('TSIG_KEY_INVALID', `${file}: key "${block[1]}" has no base64 secret`);
  const bytes = Buffer.from(secret, 'base64');
  if (bytes.length < 16) throw new UsageError('TSIG_KEY_INVALID', `${file}: key "${block[1]}" has a secret shorter than 16 bytes`);
  return new TsigKey(block[1]!, bytes);
}

/** Reads a key file that only its owner may read (mode 0600 or stricter), since it holds a secret. */
export function readBindKeyFile(file: string): TsigKey {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    throw new UsageError(
      'TSIG_KEY_UNREADABLE',
      `${file}: cannot read the TSIG key file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError('TSIG_KEY_MODE', `${file}: the TSIG key file is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`);
  }
  return parseBindKey(readFileSync(file, 'utf8'), file);
}

const TSIG_TYPE = 250;
const CLASS_ANY = 255;
export const TSIG_FUDGE = 300;

function wireName(name: string): Buffer {
  return dnsPacket.name.encode(name === '' ? '.' : name.toLowerCase());
}

/** The TSIG variables that are hashed after the message (RFC 8945 4.3.3). */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  const fixed = Buffer.alloc(2 + 4);
  fixed.writeUInt16BE(CLASS_ANY, 0);
  fixed.writeUInt32BE(0, 2);
  const timers = Buffer.alloc(6 + 2 + 2 + 2);
  writeUint48(timers, timeSigned, 0);
  timers.writeUInt16BE(fudge, 6);
  timers.writeUInt16BE(error, 8);
  timers.writeUInt16BE(other.length, 10);
  return Buffer.concat([wireName(key.name), fixed, wireName(key.algorithm), timers, other]);
}

/** Appends a TSIG record to an unsigned message; returns the signed message and the MAC (the response is checked against it). */
export function signMessage(message: Buffer, key: TsigKey, now: number = Math.floor(Date.now() / 1000)): { signed: Buffer; mac: Buffer } {
  const mac = key
    .hmac()
    .update(message)
    .update(variables(key, now, TSIG_FUDGE, 0, Buffer.alloc(0)))
    .digest();
  const id = message.readUInt16BE(0);
  const rdataHead = Buffer.alloc(6 + 2 + 2);
  writeUint48(rdataHead, now, 0);
  rdataHead.writeUInt16BE(TSIG_FUDGE, 6);
  rdataHead.writeUInt16BE(mac.length, 8);
  const rdataTail = Buffer.alloc(2 + 2 + 2);
  rdataTail.writeUInt16BE(id, 0);
  rdataTail.writeUInt16BE(0, 2);
  rdataTail.writeUInt16BE(0, 4);
  const rdata = Buffer.concat([wireName(key.algorithm), rdataHead, mac, rdataTail]);
  const rrHead = Buffer.alloc(2 + 2 + 4 + 2);
  rrHead.writeUInt16BE(TSIG_TYPE, 0);
  rrHead.writeUInt16BE(CLASS_ANY, 2);
  rrHead.writeUInt32BE(0, 4);
  rrHead.writeUInt16BE(rdata.length, 8);
  const signed = Buffer.concat([message, wireName(key.name), rrHead, rdata]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

/** The TSIG record found at the end of a response. */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  /** TSIG error: 0, 16 BADSIG, 17 BADKEY, 18 BADTIME. */
  error: number;
  other: Buffer;
  /** Where the TSIG record starts: the signed part of the message ends here. */
  offset: number;
}

export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

/** Finds and parses the TSIG record (the last additional record), or null when there is none. Never throws. */
export function findTsig(message: Buffer): TsigRecord | null {
  try {
    const offsets = recordOffsets(message);
    if (!offsets || offsets.additionalCount === 0) return null;
    const start = offsets.lastRecord;
    const owner = dnsPacket.name.decode(message, start);
    let at = start + dnsPacket.name.decode.bytes;
    if (message.readUInt16BE(at) !== TSIG_TYPE) return null;
    const rdlength = message.readUInt16BE(at + 8);
    at += 10;
    const end = at + rdlength;
    if (end > message.length) return null;
    const algorithm = dnsPacket.name.decode(message, at);
    at += dnsPacket.name.decode.bytes;
    const timeSigned = readUint48(message, at);
    const fudge = message.readUInt16BE(at + 6);
    const macSize = message.readUInt16BE(at + 8);
    at += 10;
    if (at + macSize + 6 > end) return null;
    const mac = message.subarray(at, at + macSize);
    at += macSize;
    const originalId = message.readUInt16BE(at);
    const error = message.readUInt16BE(at + 2);
    const otherLength = message.readUInt16BE(at + 4);
    const other = message.subarray(at + 6, at + 6 + otherLength);
    return { keyName: normalizeName(owner), algorithm: normalizeName(algorithm), timeSigned, fudge, mac, originalId, error, other, offset: start };
  } catch {
    return null;
  }
}

/** Checks a signed response against the request's MAC (RFC 8945 5.3). Returns null when it verifies, else why not. */
export function verifyResponse(message: Buffer, requestMac: Buffer, key: TsigKey, now: number = Math.floor(Date.now() / 1000)): string | null {
  const tsig = findTsig(message);
  if (!tsig) return 'the response is not signed';
  if (tsig.keyName !== key.name) return `the response is signed with another key (${tsig.keyName})`;
  if (tsig.error !== 0) return `the server reports ${TSIG_ERRORS[tsig.error] ?? `TSIG error ${tsig.error}`}`;
  const unsigned = Buffer.from(message.subarray(0, tsig.offset));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const macLength = Buffer.alloc(2);
  macLength.writeUInt16BE(requestMac.length);
  const expected = key
    .hmac()
    .update(macLength)
    .update(requestMac)
    .update(unsigned)
    .update(variables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other))
    .digest();
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) return 'the response signature does not verify';
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) return 'the response was signed outside the allowed time window';
  return null;
}

/** Offsets of a message's parts, walking names without decoding them. Null when the message is cut short. */
function recordOffsets(message: Buffer): { lastRecord: number; additionalCount: number } | null {
  if (message.length < 12) return null;
  const counts = [4, 6, 8, 10].map((o) => message.readUInt16BE(o));
  let at = 12;
  for (let i = 0; i < counts[0]!; i++) {
    at = skipName(message, at);
    at += 4;
  }
  let last = -1;
  const records = counts[1]! + counts[2]! + counts[3]!;
  for (let i = 0; i < records; i++) {
    last = at;
    at = skipName(message, at);
    if (at + 10 > message.length) return null;
    at += 10 + message.readUInt16BE(at + 8);
    if (at > message.length) return null;
  }
  return last < 0 ? null : { lastRecord: last, additionalCount: counts[3]! };
}

function skipName(message: Buffer, at: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (at >= message.length) throw new CertsmithError('DNS_MALFORMED', 'name runs past the end of the message');
    const len = message[at]!;
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2;
    at += len + 1;
  }
  throw new CertsmithError('DNS_MALFORMED', 'name has too many labels');
}

function writeUint48(buf: Buffer, value: number, offset: number): void {
  buf.writeUInt16BE(Math.floor(value / 2 ** 32) & 0xffff, offset);
  buf.writeUInt32BE(value >>> 0, offset + 2);
}

function readUint48(buf: Buffer, offset: number): number {
  return buf.readUInt16BE(offset) * 2 ** 32 + buf.readUInt32BE(offset + 2);
}
