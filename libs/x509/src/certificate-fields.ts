import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { children, oidText, readTlv, timeValue, type Tlv } from './der.js';

/**
 * What the inspection rules need from a certificate, read straight from its DER. Node's X509Certificate costs about
 * 200 µs per certificate on this kind of machine (OpenSSL decodes the public key through its provider decoders);
 * a healthy run over 10,000 sites spent most of its CPU there. This reader takes the common shape of a server
 * certificate (v3, single-valued RDNs of plain printable text, DNS and IP names, the usual extensions) and gives
 * up, returning null, on anything else, so that OpenSSL reads the rest: the two must agree on every field they
 * both produce, which certificate-fields.test.ts checks against node over the system trust store and generated
 * certificates.
 */
export interface CertificateFields {
  /** The DN in node's multi-line form (`X509Certificate.subject`): "CN=a\nO=b". */
  subject: string;
  issuer: string;
  /** Lowercase hex, as BN_bn2hex prints it (leading zero bytes dropped). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** `X509Certificate.subjectAltName` split into entries ("DNS:a", "IP Address:1.2.3.4"); null without the extension. */
  san: string[] | null;
  /** Extended key usage OIDs in order; null without the extension. */
  eku: string[] | null;
  /** `X509Certificate.ca`: X509_check_ca() == 1. */
  ca: boolean;
  /** Whether the OCSP responder is named in the authority information access. */
  hasOcsp: boolean;
  /** subject === issuer and the signature verifies with the certificate's own key; null when this reader cannot say. */
  selfSigned: boolean | null;
}

const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** UTF8String, PrintableString, T61String, IA5String: printed byte for byte when they hold plain ASCII. */
const TEXT_TAGS = new Set([0x0c, 0x13, 0x14, 0x16]);

const EXT_SAN = '2.5.29.17';
const EXT_EKU = '2.5.29.37';
const EXT_BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_KEY_USAGE = '2.5.29.15';
const EXT_AIA = '1.3.6.1.5.5.7.1.1';
const OCSP_METHOD = '1.3.6.1.5.5.7.48.1';

/** Signature algorithms whose check needs only node's verify(): the hash and the key type they take. */
const SIGNATURES: Record<string, { hash: string; key: 'ec' | 'rsa' }> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
  '1.2.840.113549.1.1.5': { hash: 'sha1', key: 'rsa' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
};

const CURVES: Record<string, { crv: string; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
};

/**
 * The fields, or null when the certificate has anything this reader leaves to OpenSSL (or is not DER at all).
 * Without `checkSelfSignature`, selfSigned is null (a caller that needs only names, such as the trust store index).
 */
export function readCertificateFields(der: Buffer, checkSelfSignature = true): CertificateFields | null {
  try {
    return read(der, checkSelfSignature);
  } catch {
    return null;
  }
}

function read(der: Buffer, checkSelfSignature: boolean): CertificateFields | null {
  const certificate = readTlv(der, 0);
  if (certificate.tag !== 0x30 || certificate.end !== der.length) return null;
  const [tbs, outerAlgorithm, signatureBits, ...rest] = children(der, certificate);
  if (!tbs || !outerAlgorithm || !signatureBits || rest.length || tbs.tag !== 0x30 || outerAlgorithm.tag !== 0x30 || signatureBits.tag !== 0x03) return null;
  const fields = children(der, tbs);
  const version = fields[0];
  if (!version || version.tag !== 0xa0) return null; // v1 and v2 certificates: OpenSSL's rules differ (V1 roots)
  const versionValue = readTlv(der, version.content, version.end);
  if (versionValue.tag !== 0x02 || versionValue.end - versionValue.content !== 1 || der[versionValue.content] !== 2) return null;
  const [serial, innerAlgorithm, issuer, validity, subject, spki, ...optional] = fields.slice(1);
  if (!serial || !innerAlgorithm || !issuer || !validity || !subject || !spki) return null;
  if (serial.tag !== 0x02 || innerAlgorithm.tag !== 0x30 || validity.tag !== 0x30 || spki.tag !== 0x30) return null;
  // issuerUniqueID [1] and subjectUniqueID [2] are primitive BIT STRINGs, extensions [3] constructed; in that order, once.
  let lastOptional = 0;
  for (const t of optional) {
    const number = t.tag & 0x1f;
    if (!(t.tag === 0x81 || t.tag === 0x82 || t.tag === 0xa3) || number <= lastOptional) return null;
    if (t.tag !== 0xa3 && !validBitString(der, { ...t, tag: 0x03 })) return null;
    lastOptional = number;
  }
  const extensionsField = optional.find((t) => t.tag === 0xa3);
  if (!validInteger(der, serial) || !validAlgorithm(der, innerAlgorithm) || !validAlgorithm(der, outerAlgorithm)) return null;
  if (!validBitString(der, signatureBits) || !validSpki(der, spki)) return null;
  const times = children(der, validity);
  if (times.length !== 2) return null;
  const subjectText = nameText(der, subject);
  const issuerText = nameText(der, issuer);
  if (subjectText === null || issuerText === null) return null;

  const extensions = extensionsField ? readExtensions(der, extensionsField) : new Map<string, Tlv>();
  if (!extensions) return null;
  const san = extensions.has(EXT_SAN) ? sanEntries(der, extensions.get(EXT_SAN)!) : null;
  if (extensions.has(EXT_SAN) && !san) return null;
  const eku = extensions.has(EXT_EKU) ? ekuOids(der, extensions.get(EXT_EKU)!) : null;
  if (extensions.has(EXT_EKU) && !eku) return null;
  const ca = caFlag(der, extensions);
  if (ca === null) return null;
  const hasOcsp = extensions.has(EXT_AIA) ? aiaHasOcsp(der, extensions.get(EXT_AIA)!) : false;
  if (hasOcsp === null) return null;

  let selfSigned: boolean | null = checkSelfSignature ? false : null;
  if (checkSelfSignature && subjectText === issuerText) {
    const sameAlgorithm = der.subarray(outerAlgorithm.start, outerAlgorithm.end).equals(der.subarray(innerAlgorithm.start, innerAlgorithm.end));
    selfSigned = sameAlgorithm ? verifiesWithOwnKey(der, tbs, outerAlgorithm, signatureBits, spki) : false;
  }
  return {
    subject: subjectText,
    issuer: issuerText,
    serial: serialHex(der, serial),
    notBefore: timeValue(der, times[0]!),
    notAfter: timeValue(der, times[1]!),
    san,
    eku,
    ca,
    hasOcsp,
    selfSigned,
  };
}

/** What OpenSSL's decoder insists on, so that a certificate read here is one it reads too. */
function validInteger(der: Buffer, t: Tlv): boolean {
  const length = t.end - t.content;
  if (t.tag !== 0x02 || length === 0) return false;
  // Minimal encoding: no 0x00 before a byte without its top bit, no 0xff before one with it.
  return length === 1 || !((der[t.content] === 0 && !(der[t.content + 1]! & 0x80)) || (der[t.content] === 0xff && der[t.content + 1]! & 0x80));
}

function validBitString(der: Buffer, t: Tlv): boolean {
  return t.tag === 0x03 && t.end > t.content && der[t.content]! <= 7 && (t.end - t.content > 1 || der[t.content] === 0);
}

/** AlgorithmIdentifier: SEQUENCE { OBJECT IDENTIFIER, parameters ANY OPTIONAL }. */
function validAlgorithm(der: Buffer, t: Tlv): boolean {
  if (t.tag !== 0x30) return false;
  const parts = children(der, t);
  if (parts.length < 1 || parts.length > 2) return false;
  oidText(der, parts[0]!);
  const parameters = parts[1];
  if (!parameters) return true;
  if (parameters.tag === 0x05) return parameters.end === parameters.content; // NULL
  if (parameters.tag === 0x06) return oidText(der, parameters) !== '';
  return parameters.tag === 0x30; // RSA-PSS and others: OpenSSL reads them, or the signature check says no
}

/** SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING }. */
function validSpki(der: Buffer, t: Tlv): boolean {
  const parts = children(der, t);
  return parts.length === 2 && validAlgorithm(der, parts[0]!) && validBitString(der, parts[1]!);
}

/** node's multi-line DN ('' when empty); null for anything whose printing needs OpenSSL's escaping or string conversion. */
function nameText(der: Buffer, name: Tlv): string | null {
  if (name.tag !== 0x30) return null;
  const lines: string[] = [];
  for (const rdn of children(der, name)) {
    if (rdn.tag !== 0x31) return null;
    const attributes = children(der, rdn);
    if (attributes.length !== 1 || attributes[0]!.tag !== 0x30) return null; // multi-valued RDNs print with " + ": left to OpenSSL
    const [type, value, ...extra] = children(der, attributes[0]!);
    if (!type || !value || extra.length || !TEXT_TAGS.has(value.tag)) return null;
    const short = NAME_ATTRIBUTES[oidText(der, type)];
    const text = plainText(der, value);
    if (!short || text === null) return null;
    lines.push(`${short}=${text}`);
  }
  return lines.join('\n'); // '' for an empty DN (a subject with the names only in the SAN)
}

/** Printable ASCII that RFC 2253 escaping leaves alone; null otherwise. */
function plainText(der: Buffer, value: Tlv): string | null {
  if (value.end === value.content) return null;
  for (let i = value.content; i < value.end; i++) {
    const c = der[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x2b || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x3b) return null;
  }
  if (der[value.content] === 0x23 || der[value.content] === 0x20 || der[value.end - 1] === 0x20) return null;
  return der.toString('latin1', value.content, value.end);
}

/** Extensions by OID (the extnValue OCTET STRING's content); null when one repeats, which OpenSSL treats as invalid. */
function readExtensions(der: Buffer, field: Tlv): Map<string, Tlv> | null {
  const list = children(der, field);
  if (list.length !== 1 || list[0]!.tag !== 0x30) return null;
  const out = new Map<string, Tlv>();
  for (const extension of children(der, list[0]!)) {
    const parts = children(der, extension);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (extension.tag !== 0x30 || !id || !value || value.tag !== 0x04 || parts.length < 2 || parts.length > 3) return null;
    if (parts.length === 3 && (parts[1]!.tag !== 0x01 || parts[1]!.end - parts[1]!.content !== 1)) return null;
    const oid = oidText(der, id);
    if (out.has(oid)) return null;
    out.set(oid, { tag: 0x04, start: value.start, content: value.content, end: value.end });
  }
  return out;
}

/** GeneralNames with only dNSName and iPAddress, printed as node prints them. */
function sanEntries(der: Buffer, value: Tlv): string[] | null {
  const seq = readTlv(der, value.content, value.end);
  if (seq.tag !== 0x30 || seq.end !== value.end) return null;
  const out: string[] = [];
  for (const name of children(der, seq)) {
    if (name.tag === 0x82) {
      if (name.end === name.content) return null;
      for (let i = name.content; i < name.end; i++) {
        const c = der[i]!;
        const safe = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2a || c === 0x5f;
        if (!safe) return null; // node quotes names with other characters
      }
      out.push(`DNS:${der.toString('latin1', name.content, name.end)}`);
    } else if (name.tag === 0x87 && name.end - name.content === 4) {
      out.push(`IP Address:${[...der.subarray(name.content, name.end)].join('.')}`);
    } else if (name.tag === 0x87 && name.end - name.content === 16) {
      const groups: string[] = [];
      for (let i = name.content; i < name.end; i += 2) groups.push(((der[i]! << 8) | der[i + 1]!).toString(16).toUpperCase());
      out.push(`IP Address:${groups.join(':')}`);
    } else {
      return null;
    }
  }
  return out.length ? out : null;
}

function ekuOids(der: Buffer, value: Tlv): string[] | null {
  const seq = readTlv(der, value.content, value.end);
  if (seq.tag !== 0x30 || seq.end !== value.end) return null;
  const oids = children(der, seq).map((t) => oidText(der, t));
  return oids.length ? oids : null;
}

/** X509_check_ca(x) == 1: key usage, if present, allows keyCertSign, and basicConstraints says cA. */
function caFlag(der: Buffer, extensions: Map<string, Tlv>): boolean | null {
  const ku = extensions.get(EXT_KEY_USAGE);
  let certSign = true;
  if (ku) {
    const bits = readTlv(der, ku.content, ku.end);
    if (bits.tag !== 0x03 || bits.end !== ku.end || bits.end - bits.content < 1) return null;
    certSign = bits.end - bits.content >= 2 && (der[bits.content + 1]! & 0x04) !== 0;
  }
  const bc = extensions.get(EXT_BASIC_CONSTRAINTS);
  if (!bc) return false;
  const seq = readTlv(der, bc.content, bc.end);
  if (seq.tag !== 0x30 || seq.end !== bc.end) return null;
  const parts = children(der, seq);
  let isCa = false;
  let at = 0;
  if (parts[at]?.tag === 0x01) {
    if (parts[at]!.end - parts[at]!.content !== 1) return null;
    isCa = der[parts[at]!.content] !== 0;
    at++;
  }
  if (parts[at]) {
    // A pathLenConstraint on a non-CA, or a negative one, makes OpenSSL mark the certificate invalid: its call.
    if (!validInteger(der, parts[at]!) || !isCa || (der[parts[at]!.content]! & 0x80) !== 0 || parts.length > at + 1) return null;
  }
  return certSign && isCa;
}

function aiaHasOcsp(der: Buffer, value: Tlv): boolean | null {
  const seq = readTlv(der, value.content, value.end);
  if (seq.tag !== 0x30 || seq.end !== value.end) return null;
  let ocsp = false;
  for (const access of children(der, seq)) {
    const [method, location, ...extra] = access.tag === 0x30 ? children(der, access) : [];
    if (!method || !location || extra.length) return null;
    // node prints "OCSP - URI:" for a URI location; other GeneralName forms are left to it.
    if (oidText(der, method) === OCSP_METHOD) {
      if (location.tag !== 0x86) return null;
      ocsp = true;
    }
  }
  return ocsp;
}

function serialHex(der: Buffer, serial: Tlv): string {
  if (serial.end === serial.content || (der[serial.content]! & 0x80) !== 0) throw new RangeError('negative or empty serial');
  let at = serial.content;
  while (at < serial.end && der[at] === 0) at++;
  return at === serial.end ? '0' : der.toString('hex', at, serial.end);
}

/**
 * The self-signature check, through a key built from the SPKI's numbers (a JWK): node imports it in a fraction of
 * the time OpenSSL's SPKI decoder takes. Null for a key or algorithm outside the common ones, or a key that does not
 * import: the caller then asks OpenSSL.
 */
function verifiesWithOwnKey(der: Buffer, tbs: Tlv, algorithm: Tlv, signatureBits: Tlv, spki: Tlv): boolean | null {
  const [algorithmOid, parameters] = children(der, algorithm);
  if (!algorithmOid) return null;
  const scheme = SIGNATURES[oidText(der, algorithmOid)];
  // RSA PKCS#1 v1.5 takes NULL parameters; ECDSA takes none.
  if (!scheme || (scheme.key === 'ec' ? parameters !== undefined : parameters?.tag !== 0x05)) return null;
  if (der[signatureBits.content] !== 0) return null; // unused bits
  const key = publicKeyOf(der, spki, scheme.key);
  if (!key) return null;
  try {
    return verify(scheme.hash, der.subarray(tbs.start, tbs.end), { key, dsaEncoding: 'der' }, der.subarray(signatureBits.content + 1, signatureBits.end));
  } catch {
    return false;
  }
}

function publicKeyOf(der: Buffer, spki: Tlv, type: 'ec' | 'rsa'): KeyObject | null {
  const [algorithm, bits] = children(der, spki);
  if (!algorithm || !bits || bits.tag !== 0x03 || der[bits.content] !== 0) return null;
  const [oid, parameters] = children(der, algorithm);
  if (!oid) return null;
  const keyType = oidText(der, oid);
  const key = der.subarray(bits.content + 1, bits.end);
  try {
    if (type === 'ec' && keyType === '1.2.840.10045.2.1' && parameters?.tag === 0x06) {
      const curve = CURVES[oidText(der, parameters)];
      if (!curve || key[0] !== 0x04 || key.length !== 1 + 2 * curve.size) return null;
      const x = key.subarray(1, 1 + curve.size).toString('base64url');
      const y = key.subarray(1 + curve.size).toString('base64url');
      return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' });
    }
    if (type === 'rsa' && keyType === '1.2.840.113549.1.1.1') {
      const seq = readTlv(key, 0);
      const [n, e, ...extra] = children(key, seq);
      if (!n || !e || extra.length || n.tag !== 0x02 || e.tag !== 0x02 || seq.end !== key.length) return null;
      const unsigned = (t: Tlv) => {
        let at = t.content;
        while (at < t.end - 1 && key[at] === 0) at++;
        return key.subarray(at, t.end).toString('base64url');
      };
      return createPublicKey({ key: { kty: 'RSA', n: unsigned(n), e: unsigned(e) }, format: 'jwk' });
    }
  } catch {
    return null; // a point off the curve, a malformed modulus: OpenSSL decides
  }
  return null;
}
