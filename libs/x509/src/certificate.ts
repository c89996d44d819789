import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import type { CertificateSummary } from '@certsmith/core';

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

/** A parsed certificate: node's X509Certificate plus what node does not expose. */
export interface ParsedCertificate {
  x509: X509Certificate;
  der: Buffer;
  summary: CertificateSummary;
  notBefore: Date;
  notAfter: Date;
  /** Only the DNS names of the SAN, lowercase. */
  dnsNames: string[];
}

/** Parses one DER certificate. Throws on anything that is not one. */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const x509 = new X509Certificate(der);
  const sanEntries = splitSan(x509.subjectAltName);
  const dnsNames = sanEntries.filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  const eku = x509.keyUsage; // node names the extended key usage "keyUsage"
  const selfSigned = x509.subject === x509.issuer && safeVerify(x509);
  const summary: CertificateSummary = {
    subject: oneLine(x509.subject),
    commonName: /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1] ?? null,
    issuer: oneLine(x509.issuer),
    serial: x509.serialNumber.toLowerCase(),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    names: sanEntries.map((e) => e.replace(/^(DNS|IP Address):/, '')),
    hasSan: x509.subjectAltName !== undefined,
    key: describeKey(x509),
    signatureAlgorithm: signatureAlgorithm(der),
    fingerprint: createHash('sha256').update(der).digest('hex'),
    selfSigned,
    extendedKeyUsage: eku === undefined ? null : eku.map((oid) => EKU_NAMES[oid] ?? oid),
  };
  return { x509, der, summary, notBefore, notAfter, dnsNames };
}

function splitSan(san: string | undefined): string[] {
  if (!san) return [];
  return san.split(/,\s*/).map((s) => s.trim()).filter(Boolean);
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
    case 'prime256v1': return 'P-256';
    case 'secp384r1': return 'P-384';
    case 'secp521r1': return 'P-521';
    default: return curve ?? '?';
  }
}

/** The outer signatureAlgorithm: the second element of the Certificate SEQUENCE. */
function signatureAlgorithm(der: Buffer): string {
  // Skip the outer SEQUENCE header and the tbsCertificate, then parse the AlgorithmIdentifier alone.
  const outer = headerLength(der, 0);
  const tbsStart = outer.header;
  const tbs = headerLength(der, tbsStart);
  const algStart = tbsStart + tbs.header + tbs.length;
  const alg = headerLength(der, algStart);
  const id = AsnConvert.parse(der.subarray(algStart, algStart + alg.header + alg.length), AlgorithmIdentifier);
  return SIGNATURE_ALGORITHMS[id.algorithm] ?? id.algorithm;
}

function headerLength(der: Buffer, at: number): { header: number; length: number } {
  const first = der[at + 1];
  if (first === undefined) throw new RangeError('truncated DER');
  if (first < 0x80) return { header: 2, length: first };
  const count = first & 0x7f;
  if (count === 0 || count > 4 || at + 2 + count > der.length) throw new RangeError('bad DER length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[at + 2 + i] ?? 0);
  return { header: 2 + count, length };
}
