import { children, parsePem, readTlv } from '@certsmith/x509';
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
  const der = parsePem(certificatePem).find((b) => b.label === 'CERTIFICATE')?.der;
  if (!der) throw new AcmeError('ARI_NO_AKI', 'no PEM certificate: no ARI identifier');
  let serial: Buffer;
  let keyId: Buffer | null = null;
  try {
    const tbs = children(der, readTlv(der, 0))[0]!;
    const fields = children(der, tbs);
    const at = fields[0]!.tag === 0xa0 ? 1 : 0; // [0] version
    serial = der.subarray(fields[at]!.content, fields[at]!.end);
    const extensions = fields.find((f) => f.tag === 0xa3);
    for (const extension of extensions ? children(der, children(der, extensions)[0]!) : []) {
      const [id, ...rest] = children(der, extension);
      if (!der.subarray(id!.start, id!.end).equals(AKI_OID)) continue;
      const value = rest[rest.length - 1]!;
      const key = children(der, readTlv(der, value.content, value.end)).find((t) => t.tag === 0x80); // [0] keyIdentifier
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

/**
 * When to renew inside the CA's suggested window: a uniformly random moment (RFC 9773 section 4.2), or now when
 * the window has already begun... and ended, or began in the past.
 */
export function renewalTime(window: { start: Date; end: Date }, now: Date, random: () => number = Math.random): Date {
  if (window.end.getTime() <= now.getTime()) return new Date(now);
  const start = Math.max(window.start.getTime(), now.getTime());
  return new Date(start + random() * (window.end.getTime() - start));
}
