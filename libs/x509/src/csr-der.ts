import { KeyObject, sign } from 'node:crypto';
import type { KeySpec } from '@certsmith/core';

/*
 * A PKCS#10 certificate request (RFC 2986) written directly in DER and signed with node's crypto: the one
 * structure an order needs, without the generic ASN.1 machinery (a fifth of an order's CSR-and-key time went to
 * building and serializing the request through @peculiar/x509 and asn1js).
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...content: Buffer[]) => tlv(0x30, ...content);
const set = (...content: Buffer[]) => tlv(0x31, ...content);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** PrintableString when the name allows it (as @peculiar/x509 chose), else UTF8String (a wildcard's `*`). */
function directoryString(value: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? tlv(0x13, Buffer.from(value, 'ascii')) : tlv(0x0c, Buffer.from(value, 'utf8'));
}

const SIGNATURE: Record<KeySpec['type'], { hash: string; algorithm: Buffer }> = {
  'ecdsa-p256': { hash: 'sha256', algorithm: sequence(oid('1.2.840.10045.4.3.2')) },
  'ecdsa-p384': { hash: 'sha384', algorithm: sequence(oid('1.2.840.10045.4.3.3')) },
  'rsa-2048': { hash: 'sha256', algorithm: sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])) },
  'rsa-3072': { hash: 'sha256', algorithm: sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])) },
  'rsa-4096': { hash: 'sha256', algorithm: sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])) },
};

/** The DER of a CSR: subject CN = the first name, every name as a dNSName in the SAN extension request. */
export function csrDer(names: string[], spec: KeySpec, privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  const subject = sequence(set(sequence(oid('2.5.4.3'), directoryString(names[0]!))));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const san = sequence(...names.map((name) => tlv(0x82, Buffer.from(name, 'ascii'))));
  const extensions = sequence(sequence(oid('2.5.29.17'), tlv(0x04, san)));
  const attributes = tlv(0xa0, sequence(oid('1.2.840.113549.1.9.14'), set(extensions)));
  const info = sequence(Buffer.from([0x02, 0x01, 0x00]), subject, spki, attributes);
  const { hash, algorithm } = SIGNATURE[spec.type];
  const signature = sign(hash, info, privateKey); // ECDSA: DER Ecdsa-Sig-Value, as X.509 wants
  return new Uint8Array(sequence(info, algorithm, tlv(0x03, Buffer.from([0x00]), signature)));
}
