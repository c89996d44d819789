import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import type { CertificateSummary } from '@certsmith/core';
import { readCertificateFields } from './certificate-fields.js';

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

export const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/**
 * A parsed certificate: the summary and dates the rules read, and node's X509Certificate, built only when something
 * asks for it (a chain to a CA, a key that the fast comparison cannot match): on the healthy path the fields come
 * from the DER (certificate-fields.ts) and OpenSSL never parses the certificate.
 */
export class ParsedCertificate {
  private object: X509Certificate | null;

  constructor(
    readonly der: Buffer,
    readonly summary: CertificateSummary,
    readonly notBefore: Date,
    readonly notAfter: Date,
    /** Only the DNS names of the SAN, lowercase. */
    readonly dnsNames: string[],
    /** Whether this is a CA certificate (`X509Certificate.ca`). */
    readonly ca: boolean,
    /** The subject and issuer DN in node's multi-line form, as the trust store indexes them. */
    readonly subjectName: string,
    readonly issuerName: string,
    /** Whether the authority information access names an OCSP responder. */
    readonly hasOcsp: boolean,
    x509: X509Certificate | null,
  ) {
    this.object = x509;
  }

  get x509(): X509Certificate {
    return (this.object ??= new X509Certificate(this.der));
  }
}

/**
 * Parsed certificates by SHA-256 of the DER, most recent last: services and sites share their chain certificates, so
 * each CA certificate is parsed once per run instead of once per file. Bounded, so a run over many sites stays small.
 */
const CACHE_SIZE = 256;
const cache = new Map<string, ParsedCertificate>();

/** Parses one DER certificate. Throws on anything that is not one. The result is shared: do not modify it. */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const fingerprint = createHash('sha256').update(der).digest('hex');
  const cached = cache.get(fingerprint);
  if (cached) {
    cache.delete(fingerprint);
    cache.set(fingerprint, cached);
    return cached;
  }
  const copy = Buffer.from(der); // der may be a view into a whole file: keep only the certificate
  const parsed = parseFast(copy, fingerprint) ?? parseWithOpenSsl(copy, fingerprint);
  cache.set(fingerprint, parsed);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return parsed;
}

/** From the DER alone (exported for the test that holds it to parseWithOpenSsl); null when the certificate has anything that only OpenSSL reads the way node reports it. */
export function parseFast(der: Buffer, fingerprint: string): ParsedCertificate | null {
  const fields = readCertificateFields(der);
  if (!fields) return null;
  let selfSigned = fields.selfSigned;
  let x509: X509Certificate | null = null;
  if (selfSigned === null) {
    x509 = new X509Certificate(der);
    selfSigned = safeVerify(x509);
  }
  // X509_check_ca() also says no for a certificate with any extension OpenSSL cannot decode (SKI, AKI, CRL
  // distribution points...), which this reader does not decode: a CA certificate (a chain's, parsed once and cached)
  // asks OpenSSL; a leaf is not a CA either way.
  const ca = fields.ca && (x509 ??= new X509Certificate(der)).ca;
  let key = keyFromDer(der);
  if (key === null) key = describeKey((x509 ??= new X509Certificate(der)));
  const summary = summaryOf(
    fields.subject,
    fields.issuer,
    fields.serial,
    fields.notBefore,
    fields.notAfter,
    fields.san,
    key,
    signatureAlgorithm(der),
    fingerprint,
    selfSigned,
    fields.eku,
  );
  return new ParsedCertificate(
    der,
    summary,
    fields.notBefore,
    fields.notAfter,
    dnsNamesOf(fields.san),
    ca,
    fields.subject,
    fields.issuer,
    fields.hasOcsp,
    x509,
  );
}

export function parseWithOpenSsl(der: Buffer, fingerprint: string): ParsedCertificate {
  const x509 = new X509Certificate(der);
  // node leaves an empty DN undefined; the DER reader says ''.
  const subject = x509.subject ?? '';
  const issuer = x509.issuer ?? '';
  const san = x509.subjectAltName;
  const sanEntries = san === undefined ? null : splitSan(san);
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  const selfSigned = subject === issuer && safeVerify(x509);
  const summary = summaryOf(
    subject,
    issuer,
    x509.serialNumber.toLowerCase(),
    notBefore,
    notAfter,
    sanEntries,
    keyFromDer(der) ?? describeKey(x509),
    signatureAlgorithm(der),
    fingerprint,
    selfSigned,
    x509.keyUsage ?? null,
  ); // node names the extended key usage "keyUsage"
  return new ParsedCertificate(
    der,
    summary,
    notBefore,
    notAfter,
    dnsNamesOf(sanEntries),
    x509.ca,
    subject,
    issuer,
    x509.infoAccess?.includes('OCSP - URI:') ?? false,
    x509,
  );
}

function summaryOf(
  subject: string,
  issuer: string,
  serial: string,
  notBefore: Date,
  notAfter: Date,
  san: string[] | null,
  key: string,
  signature: string,
  fingerprint: string,
  selfSigned: boolean,
  eku: string[] | null,
): CertificateSummary {
  return {
    subject: oneLine(subject) || EMPTY_SUBJECT,
    commonName: /(?:^|\n)CN=([^\n]*)/.exec(subject)?.[1] ?? null,
    issuer: oneLine(issuer),
    serial,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    names: (san ?? []).map((e) => e.replace(/^(DNS|IP Address):/, '')),
    hasSan: san !== null,
    key,
    signatureAlgorithm: signature,
    fingerprint,
    selfSigned,
    extendedKeyUsage: eku === null ? null : eku.map((oid) => EKU_NAMES[oid] ?? oid),
  };
}

/**
 * How the summary shows an empty subject DN: CAs issue such certificates with the names only in the SAN (Let's
 * Encrypt's short-lived profiles), and logs and mails print the subject as it is.
 */
export const EMPTY_SUBJECT = '(empty subject)';

function dnsNamesOf(san: string[] | null): string[] {
  return (san ?? []).filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
}

/**
 * The bytes that identify the public key inside a private key file: the EC point, or the RSA modulus and
 * exponent (the content of RSAPublicKey). A private key whose DER holds them carries this public key, which
 * is what OpenSSL's X509_check_private_key compares. Null when the key type has no such form here.
 */
export function publicKeyBytes(cert: ParsedCertificate): Buffer | null {
  const spki = spkiParts(cert.der);
  if (!spki) return null;
  if (spki.algorithm.equals(EC_PUBLIC_KEY)) return spki.key;
  if (spki.algorithm.equals(RSA_ENCRYPTION)) return rsaPublicKeyContent(spki.key);
  return null;
}

/**
 * The SubjectPublicKeyInfo of a certificate, read from its own DER: KeyObject.export and asymmetricKeyDetails cost
 * as much as parsing the certificate again. Null when the DER does not have the expected shape.
 */
function spkiParts(der: Buffer): { algorithm: Buffer; parameters: Buffer; key: Buffer } | null {
  try {
    const outer = headerLength(der, 0);
    let at = outer.header;
    const tbs = headerLength(der, at);
    at += tbs.header;
    if (der[at] === 0xa0) at = skip(der, at); // [0] version
    for (let field = 0; field < 5; field++) at = skip(der, at); // serial, signature, issuer, validity, subject
    const spki = headerLength(der, at);
    const algAt = at + spki.header;
    const alg = headerLength(der, algAt);
    const oidAt = algAt + alg.header;
    const algorithm = der.subarray(oidAt, skip(der, oidAt));
    const parameters = der.subarray(oidAt + algorithm.length, algAt + alg.header + alg.length);
    const bitsAt = algAt + alg.header + alg.length;
    if (der[bitsAt] !== 0x03) return null;
    const bits = headerLength(der, bitsAt);
    const key = der.subarray(bitsAt + bits.header + 1, bitsAt + bits.header + bits.length); // after the unused-bits byte
    return { algorithm, parameters, key };
  } catch {
    return null;
  }
}

/** The modulus and exponent TLVs inside RSAPublicKey, as they also appear in the private key. */
function rsaPublicKeyContent(key: Buffer): Buffer {
  return key.subarray(headerLength(key, 0).header);
}

/** Bits of an RSA modulus (the first INTEGER of RSAPublicKey). */
function rsaBits(key: Buffer): number {
  const content = rsaPublicKeyContent(key);
  const modulus = headerLength(content, 0);
  let bytes = content.subarray(modulus.header, modulus.header + modulus.length);
  while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  return (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0] ?? 0));
}

const NAMED_CURVES: [Buffer, string][] = [
  [Buffer.from('06082a8648ce3d030107', 'hex'), 'P-256'],
  [Buffer.from('06052b81040022', 'hex'), 'P-384'],
  [Buffer.from('06052b81040023', 'hex'), 'P-521'],
];

/** DER of the OIDs 1.2.840.10045.2.1 (ecPublicKey) and 1.2.840.113549.1.1.1 (rsaEncryption). */
const EC_PUBLIC_KEY = Buffer.from([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
const RSA_ENCRYPTION = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);

function skip(der: Buffer, at: number): number {
  const h = headerLength(der, at);
  return at + h.header + h.length;
}

function splitSan(san: string): string[] {
  return san
    .split(/,\s*/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

function safeVerify(x509: X509Certificate): boolean {
  try {
    return x509.verify(x509.publicKey);
  } catch {
    return false;
  }
}

/** 'RSA 2048' or 'EC P-256' from the SPKI bytes; null for other keys (node's view of the key decides then). */
function keyFromDer(der: Buffer): string | null {
  const spki = spkiParts(der);
  if (spki?.algorithm.equals(RSA_ENCRYPTION)) {
    try {
      return `RSA ${rsaBits(spki.key)}`;
    } catch {
      return null;
    }
  }
  if (spki?.algorithm.equals(EC_PUBLIC_KEY)) {
    const named = NAMED_CURVES.find(([oid]) => spki.parameters.equals(oid));
    if (named) return `EC ${named[1]}`;
  }
  return null;
}

function describeKey(x509: X509Certificate): string {
  let key: KeyObject;
  try {
    key = x509.publicKey;
  } catch {
    return 'unknown'; // an algorithm node cannot load (GOST, a damaged SPKI): reported, not fatal
  }
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `RSA ${details.modulusLength ?? '?'}`;
    case 'ec':
      return `EC ${curveName(details.namedCurve)}`;
    default:
      return String(key.asymmetricKeyType ?? 'unknown').toUpperCase();
  }
}

function curveName(curve: string | undefined): string {
  switch (curve) {
    case 'prime256v1':
      return 'P-256';
    case 'secp384r1':
      return 'P-384';
    case 'secp521r1':
      return 'P-521';
    default:
      return curve ?? '?';
  }
}

/** The outer signatureAlgorithm: the OID at the start of the second element of the Certificate SEQUENCE. */
function signatureAlgorithm(der: Buffer): string {
  const outer = headerLength(der, 0);
  const tbsStart = outer.header;
  const tbs = headerLength(der, tbsStart);
  const algStart = tbsStart + tbs.header + tbs.length;
  const alg = headerLength(der, algStart);
  const oidAt = algStart + alg.header;
  if (der[oidAt] !== 0x06) throw new RangeError('no algorithm OID');
  const oid = headerLength(der, oidAt);
  const id = decodeOid(der.subarray(oidAt + oid.header, oidAt + oid.header + oid.length));
  return SIGNATURE_ALGORITHMS[id] ?? id;
}

function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0 || bytes.length > 64) throw new RangeError('bad OID');
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...parts].join('.');
}

export function headerLength(der: Buffer, at: number): { header: number; length: number } {
  const first = der[at + 1];
  if (first === undefined) throw new RangeError('truncated DER');
  if (first < 0x80) return { header: 2, length: first };
  const count = first & 0x7f;
  if (count === 0 || count > 4 || at + 2 + count > der.length) throw new RangeError('bad DER length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[at + 2 + i] ?? 0);
  return { header: 2 + count, length };
}
