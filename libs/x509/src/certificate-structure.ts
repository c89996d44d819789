import { children, oidText, readTlv, type Tlv } from './der.js';

/** One extension: whether it is marked critical and its value (the extnValue OCTET STRING's content). */
export interface Extension {
  critical: boolean;
  value: Buffer;
}

/**
 * What the X.509 rules of a path read from a certificate's DER: the raw parts that node's X509Certificate does not
 * expose (criticality, key usage bits, constraints, the key's parameters). Read once per certificate and cached.
 */
export interface CertificateStructure {
  der: Buffer;
  version: number;
  /** The serial's content octets (two's complement). */
  serial: Buffer;
  /** DER of the issuer and subject Name, and whether the subject is an empty SEQUENCE. */
  issuer: Buffer;
  subject: Buffer;
  subjectEmpty: boolean;
  /** Extensions by OID; `duplicated` when one OID appears twice (RFC 5280 4.2 forbids it). */
  extensions: Map<string, Extension>;
  duplicated: boolean;
  /** The SubjectPublicKeyInfo's algorithm OID, its parameters' DER (null when absent) and the key's bits. */
  keyAlgorithm: string;
  keyParameters: Buffer | null;
  publicKey: Buffer;
  /** OID of the outer signatureAlgorithm. */
  signatureAlgorithm: string;
}

const cache = new WeakMap<Buffer, CertificateStructure | null>();

/** The structure of a DER certificate, or null when it is not one this reader can walk (OpenSSL's checks decide then). */
export function certificateStructure(der: Buffer): CertificateStructure | null {
  let known = cache.get(der);
  if (known === undefined) {
    try {
      known = read(der);
    } catch {
      known = null;
    }
    cache.set(der, known);
  }
  return known;
}

function read(der: Buffer): CertificateStructure {
  const certificate = readTlv(der, 0);
  const [tbs, outerAlgorithm] = children(der, certificate);
  if (!tbs || !outerAlgorithm) throw new RangeError('not a certificate');
  const fields = children(der, tbs);
  let at = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) {
    const value = readTlv(der, fields[0].content, fields[0].end);
    version = der[value.end - 1]! + 1;
    at = 1;
  }
  const [serial, , issuer, , subject, spki, ...optional] = fields.slice(at);
  if (!serial || !issuer || !subject || !spki) throw new RangeError('missing TBSCertificate fields');
  const { extensions, duplicated } = readExtensions(
    der,
    optional.find((t) => t.tag === 0xa3),
  );
  const [keyAlgorithm, keyBits] = children(der, spki);
  const [keyOid, keyParameters] = children(der, keyAlgorithm!);
  return {
    der,
    version,
    serial: der.subarray(serial.content, serial.end),
    issuer: der.subarray(issuer.start, issuer.end),
    subject: der.subarray(subject.start, subject.end),
    subjectEmpty: subject.content === subject.end,
    extensions,
    duplicated,
    keyAlgorithm: oidText(der, keyOid!),
    keyParameters: keyParameters ? der.subarray(keyParameters.start, keyParameters.end) : null,
    publicKey: der.subarray(keyBits!.content + 1, keyBits!.end),
    signatureAlgorithm: oidText(der, children(der, outerAlgorithm)[0]!),
  };
}

function readExtensions(der: Buffer, field: Tlv | undefined): { extensions: Map<string, Extension>; duplicated: boolean } {
  const extensions = new Map<string, Extension>();
  let duplicated = false;
  if (!field) return { extensions, duplicated };
  const [list] = children(der, field);
  for (const extension of children(der, list!)) {
    const parts = children(der, extension);
    const oid = oidText(der, parts[0]!);
    const value = parts[parts.length - 1]!;
    const critical = parts.length === 3 && der[parts[1]!.content] !== 0;
    if (extensions.has(oid)) duplicated = true;
    extensions.set(oid, { critical, value: der.subarray(value.content, value.end) });
  }
  return { extensions, duplicated };
}

/** The TLV at the start of a buffer and the ones directly inside it. */
export function sequenceOf(bytes: Buffer): Tlv[] {
  return children(bytes, readTlv(bytes, 0));
}
