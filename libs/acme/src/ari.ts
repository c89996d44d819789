import { AcmeError } from './problem.js';

/**
 * RFC 9773's certificate identifier: base64url(Authority Key Identifier keyIdentifier) "." base64url(serial),
 * the serial as its DER INTEGER content bytes (a leading zero kept).
 */
export function ariCertId(keyIdentifier: Uint8Array, serial: Uint8Array): string {
  return `${Buffer.from(keyIdentifier).toString('base64url')}.${Buffer.from(serial).toString('base64url')}`;
}

/**
 * The ARI identifier of a PEM certificate, read from its DER: the serial's content bytes and the keyIdentifier of
 * the Authority Key Identifier extension. Two fields do not justify loading an ASN.1 library into every renewal.
 */
export function ariCertIdOf(certificatePem: string): string {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(certificatePem)?.[1];
  if (!body) throw new AcmeError('ARI_NO_AKI', 'no PEM certificate: no ARI identifier');
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  let serial: Buffer;
  let keyId: Buffer | null = null;
  try {
    const tbs = inside(der, inside(der, { content: 0, end: der.length })[0]!)[0]!;
    const fields = inside(der, tbs);
    const at = der[fields[0]!.start] === 0xa0 ? 1 : 0; // [0] version
    serial = der.subarray(fields[at]!.content, fields[at]!.end);
    const extensions = fields.find((f) => der[f.start] === 0xa3);
    for (const extension of extensions ? inside(der, inside(der, extensions)[0]!) : []) {
      const [id, ...rest] = inside(der, extension);
      if (!der.subarray(id!.start, id!.end).equals(AKI_OID)) continue;
      const value = rest[rest.length - 1]!;
      const aki = inside(der, inside(der, value)[0]!);
      const key = aki.find((t) => der[t.start] === 0x80); // [0] keyIdentifier
      if (key) keyId = der.subarray(key.content, key.end);
    }
  } catch {
    throw new AcmeError('ARI_NO_AKI', 'the certificate cannot be read: no ARI identifier');
  }
  if (!keyId) throw new AcmeError('ARI_NO_AKI', 'the certificate has no Authority Key Identifier: no ARI identifier');
  return ariCertId(keyId, serial);
}

/** DER of the OID 2.5.29.35 (authorityKeyIdentifier). */
const AKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]);

interface Span { start: number; content: number; end: number }

/** The TLVs inside a span's content; throws on a length that runs past it. */
function inside(der: Buffer, span: Pick<Span, 'content' | 'end'>): Span[] {
  const out: Span[] = [];
  for (let at = span.content; at < span.end;) {
    let length = der[at + 1];
    let content = at + 2;
    if (length === undefined) throw new RangeError('truncated DER');
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4) throw new RangeError('bad DER length');
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i]!;
      content += count;
    }
    const end = content + length;
    if (end > span.end) throw new RangeError('DER runs past its container');
    out.push({ start: at, content, end });
    at = end;
  }
  return out;
}

/**
 * When to renew inside the CA's suggested window: a uniformly random moment (RFC 9773 section 4.2), or now when
 * the window has already begun... and ended, or began in the past.
 */
export function renewalTime(window: { start: Date; end: Date }, now: Date, random: () => number = Math.random): Date {
  if (window.end.getTime() <= now.getTime()) return new Date(now);
  const start = Math.max(window.start.getTime(), now.getTime());
  return new Date(start + random() * (window.end.getTime() - start));
}
