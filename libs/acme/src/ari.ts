import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { AcmeError } from './problem.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/**
 * RFC 9773's certificate identifier: base64url(Authority Key Identifier keyIdentifier) "." base64url(serial),
 * the serial as its DER INTEGER content bytes (a leading zero kept).
 */
export function ariCertId(keyIdentifier: Uint8Array, serial: Uint8Array): string {
  return `${Buffer.from(keyIdentifier).toString('base64url')}.${Buffer.from(serial).toString('base64url')}`;
}

/** The ARI identifier of a PEM certificate. */
export function ariCertIdOf(certificatePem: string): string {
  const cert = new x509.X509Certificate(certificatePem);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) throw new AcmeError('ARI_NO_AKI', `the certificate ${cert.subject} has no Authority Key Identifier: no ARI identifier`);
  // @peculiar/x509 gives the serial as hex of the INTEGER's content bytes; keep a sign byte when the top bit is set.
  let serialHex = cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber;
  if (/^[89a-f]/i.test(serialHex)) serialHex = `00${serialHex}`;
  return ariCertId(Buffer.from(aki.keyId, 'hex'), Buffer.from(serialHex, 'hex'));
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
