/** One DER TLV: its tag byte and where its header, content and end lie in the buffer. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  content: number;
  /** Offset just past the content. */
  end: number;
}

/**
 * Reads the TLV at `at`, strictly: single-byte tags, definite minimal-form lengths of at most 4 bytes, content inside
 * `limit`. Anything else throws a RangeError, so a caller can fall back to OpenSSL for what it does not know.
 */
export function readTlv(der: Uint8Array, at: number, limit: number = der.length): Tlv {
  if (at + 2 > limit) throw new RangeError('truncated DER');
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw new RangeError('multi-byte DER tag');
  const first = der[at + 1]!;
  let length: number;
  let content: number;
  if (first < 0x80) {
    length = first;
    content = at + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || at + 2 + count > limit) throw new RangeError('bad DER length');
    if (der[at + 2] === 0) throw new RangeError('non-minimal DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i]!;
    if (length < 0x80) throw new RangeError('non-minimal DER length');
    content = at + 2 + count;
  }
  const end = content + length;
  if (end > limit) throw new RangeError('DER content runs past its container');
  return { tag, start: at, content, end };
}

/** The TLVs directly inside a constructed TLV, in order. */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.content; at < parent.end;) {
    const tlv = readTlv(der, at, parent.end);
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER's content bytes. */
export function oidText(der: Uint8Array, tlv: Tlv): string {
  if (tlv.tag !== 0x06 || tlv.end === tlv.content || tlv.end - tlv.content > 64) throw new RangeError('bad OID');
  const parts: number[] = [];
  let value = 0;
  for (let i = tlv.content; i < tlv.end; i++) {
    const byte = der[i]!;
    if (byte === 0x80 && (i === tlv.content || !(der[i - 1]! & 0x80))) throw new RangeError('non-minimal OID');
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  if (der[tlv.end - 1]! & 0x80) throw new RangeError('truncated OID');
  const first = parts.shift()!;
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...parts].join('.');
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), the two forms RFC 5280 allows; anything else throws. */
export function timeValue(der: Uint8Array, tlv: Tlv): Date {
  const text = Buffer.from(der.buffer, der.byteOffset + tlv.content, tlv.end - tlv.content).toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (tlv.tag === 0x17 && (match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    const yy = Number(match[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy; // RFC 5280 4.1.2.5.1
  } else if (tlv.tag === 0x18 && (match = /^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    year = Number(match[1]);
  } else {
    throw new RangeError(`unsupported time "${text}"`);
  }
  const [month, day, hour, minute, second] = [2, 3, 4, 5, 6].map((i) => Number(match![i]));
  const ms = Date.UTC(year, month! - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC rolls over (Feb 30 becomes Mar 2); OpenSSL refuses such a time, so the caller must fall back.
  if (date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day || hour! > 23 || minute! > 59 || second! > 59)
    throw new RangeError(`invalid time "${text}"`);
  return date;
}

/**
 * A certificate's issuer and subject fields as encoded (the Name TLVs, header included), or null when the DER is not
 * shaped as a certificate. Only the TBS header is read: a cheap key for matching a certificate to its issuer.
 */
export function encodedNames(der: Uint8Array): { issuer: Uint8Array; subject: Uint8Array } | null {
  try {
    const certificate = readTlv(der, 0);
    const tbs = readTlv(der, certificate.content, certificate.end);
    if (certificate.tag !== 0x30 || tbs.tag !== 0x30) return null;
    let field = readTlv(der, tbs.content, tbs.end);
    if (field.tag === 0xa0) field = readTlv(der, field.end, tbs.end); // [0] version, then the serial
    const algorithm = readTlv(der, field.end, tbs.end);
    const issuer = readTlv(der, algorithm.end, tbs.end);
    const validity = readTlv(der, issuer.end, tbs.end);
    const subject = readTlv(der, validity.end, tbs.end);
    if (issuer.tag !== 0x30 || subject.tag !== 0x30) return null;
    return { issuer: der.subarray(issuer.start, issuer.end), subject: der.subarray(subject.start, subject.end) };
  } catch {
    return null;
  }
}
