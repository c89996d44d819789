import type { CertificateStructure } from './certificate-structure.js';
import { ANY_EKU, EXT, SERVER_AUTH, basicConstraints, extendedKeyUsage, keyCertSign, subjectKeyIdentifier, wellFormedAia } from './x509-extensions.js';
import { nameConstraintsProblem } from './name-constraints.js';

/** A rule a certificate breaks: OpenSSL's verify error name and number where OpenSSL has one, else certsmith's name. */
export interface Problem {
  name: string;
  code: number | null;
  reason: string;
}

/** Where a certificate sits in a path: the rules differ for the server's certificate, a CA under the anchor, and the anchor. */
export type Role = 'leaf' | 'intermediate' | 'anchor';

/** Extensions certsmith understands; any other marked critical makes the certificate unusable (RFC 5280 4.2). */
const HANDLED = new Set<string>([
  EXT.keyUsage,
  EXT.subjectAltName,
  EXT.basicConstraints,
  EXT.nameConstraints,
  EXT.certificatePolicies,
  EXT.policyMappings,
  EXT.policyConstraints,
  EXT.extendedKeyUsage,
  EXT.inhibitAnyPolicy,
  EXT.authorityKeyIdentifier,
  EXT.subjectKeyIdentifier,
  EXT.authorityInfoAccess,
]);

const WEAK_SIGNATURES = new Set(['1.2.840.113549.1.1.2', '1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1', '1.2.840.10040.4.3']);
const RSA = '1.2.840.113549.1.1.1';
const EC = '1.2.840.10045.2.1';
const DSA = '1.2.840.10040.4.1';
const STRONG_CURVES = new Set(['06082a8648ce3d030107', '06052b81040022', '06052b81040023']); // P-256, P-384, P-521

const problem = (name: string, code: number | null, reason: string): Problem => ({ name, code, reason });

/**
 * The first rule of RFC 5280 and the CA/Browser Forum's Baseline Requirements that one certificate breaks in its
 * role, or null. Each is a check on its own DER; the rules that relate certificates (path length, name constraints,
 * the issuer's key) are in chain.ts. A trust anchor is judged as browsers judge it: its name, key and constraints,
 * not the form of its own identifiers (several roots of the system store would fail those).
 */
export function certificateProblem(cert: CertificateStructure, role: Role): Problem | null {
  try {
    return firstProblem(cert, role);
  } catch {
    return problem('INVALID_EXTENSION', 41, 'an extension cannot be decoded');
  }
}

function firstProblem(cert: CertificateStructure, role: Role): Problem | null {
  if (role === 'leaf') return criticalityProblem(cert, role) ?? leafProblem(cert) ?? serialProblem(cert); // its key: WEAK_KEY
  return (
    criticalityProblem(cert, role) ??
    caProblem(cert, role) ??
    keyProblem(cert, role) ??
    (role === 'intermediate' ? (serialProblem(cert) ?? weakSignature(cert)) : null)
  );
}

/** A self-signed anchor's own signature does not count: browsers ignore it. */
function weakSignature(cert: CertificateStructure): Problem | null {
  return WEAK_SIGNATURES.has(cert.signatureAlgorithm) ? problem('CA_MD_TOO_WEAK', 68, 'the CA certificate is signed with MD5 or SHA-1') : null;
}

function criticalityProblem(cert: CertificateStructure, role: Role): Problem | null {
  for (const [oid, extension] of cert.extensions) {
    if (extension.critical && !HANDLED.has(oid)) return problem('UNHANDLED_CRITICAL_EXTENSION', 34, `the extension ${oid} is marked critical and unknown`);
  }
  if (role === 'anchor') return null;
  if (cert.extensions.get(EXT.authorityKeyIdentifier)?.critical)
    return problem('AUTHORITY_KEY_IDENTIFIER_CRITICAL', 90, 'the authority key identifier is marked critical');
  if (cert.extensions.get(EXT.subjectKeyIdentifier)?.critical)
    return problem('SUBJECT_KEY_IDENTIFIER_CRITICAL', 91, 'the subject key identifier is marked critical');
  if (cert.extensions.get(EXT.authorityInfoAccess)?.critical || !wellFormedAia(cert))
    return problem('INVALID_EXTENSION', 41, 'the authority information access is critical or malformed');
  if (cert.extensions.has(EXT.policyConstraints) && !cert.extensions.get(EXT.policyConstraints)!.critical) {
    return problem('INVALID_POLICY_EXTENSION', 42, 'the policy constraints extension is not marked critical');
  }
  if (!cert.extensions.has(EXT.authorityKeyIdentifier) && !cert.issuer.equals(cert.subject)) {
    return problem('MISSING_AUTHORITY_KEY_IDENTIFIER', 85, 'the certificate has no authority key identifier');
  }
  return null;
}

function leafProblem(cert: CertificateStructure): Problem | null {
  // A self-issued leaf is the administrator's own self-signed certificate, which `openssl req -x509` marks as a CA
  // by default: SELF_SIGNED judges it.
  const selfIssued = cert.issuer.equals(cert.subject);
  if (!selfIssued && basicConstraints(cert)?.ca) return problem('INVALID_NON_CA', 37, 'a server certificate must not be a CA (basicConstraints cA=TRUE)');
  if (!selfIssued && keyCertSign(cert))
    return problem('KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA', 82, 'a server certificate must not have the keyCertSign key usage');
  if (cert.extensions.has(EXT.nameConstraints)) return problem('INVALID_EXTENSION', 41, 'a server certificate must not carry name constraints');
  const san = cert.extensions.get(EXT.subjectAltName);
  if (cert.subjectEmpty && san && !san.critical)
    return problem('EMPTY_SUBJECT_SAN_NOT_CRITICAL', 88, 'the subject is empty and the subjectAltName is not marked critical');
  if (!cert.subjectEmpty && san?.critical)
    return problem('SAN_CRITICAL_WITH_SUBJECT', null, 'the subjectAltName is marked critical although the subject is not empty');
  if (cert.extensions.get(EXT.extendedKeyUsage)?.critical)
    return problem('EXTENDED_KEY_USAGE_CRITICAL', null, 'the extended key usage of a server certificate is marked critical');
  if (extendedKeyUsage(cert)?.includes(ANY_EKU))
    return problem('ANY_EXTENDED_KEY_USAGE', null, 'a server certificate must not assert anyExtendedKeyUsage (Baseline Requirements 7.1.2.7.10)');
  return null;
}

function caProblem(cert: CertificateStructure, role: Role): Problem | null {
  if (role === 'intermediate') {
    if (!cert.extensions.has(EXT.subjectKeyIdentifier) || !subjectKeyIdentifier(cert)?.length)
      return problem('MISSING_SUBJECT_KEY_IDENTIFIER', 86, 'the CA certificate has no subject key identifier');
    if (cert.extensions.has(EXT.basicConstraints) && !cert.extensions.get(EXT.basicConstraints)!.critical) {
      return problem('CA_BCONS_NOT_CRITICAL', 89, "the CA certificate's basicConstraints is not marked critical");
    }
  }
  const eku = extendedKeyUsage(cert);
  if (eku && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_EKU))
    return problem('INVALID_PURPOSE', 26, "the CA certificate's extended key usage does not allow serverAuth");
  return nameConstraintsProblem(cert);
}

/** A key the Web PKI refuses: DSA, EC off P-256/384/521 or with explicit parameters, RSA under 2048 bits or not a multiple of 8. */
export function keyProblem(cert: CertificateStructure, role: Role): Problem | null {
  const [name, code] = role === 'leaf' ? (['EE_KEY_TOO_SMALL', 66] as const) : (['CA_KEY_TOO_SMALL', 67] as const);
  if (cert.keyAlgorithm === DSA) return problem(name, code, 'DSA keys are not allowed');
  if (cert.keyAlgorithm === EC) {
    if (cert.keyParameters?.[0] === 0x30) return problem('EC_KEY_EXPLICIT_PARAMS', 94, 'the EC key has explicit curve parameters instead of a named curve');
    if (!cert.keyParameters || !STRONG_CURVES.has(cert.keyParameters.toString('hex'))) return problem(name, code, 'the EC key is not on P-256, P-384 or P-521');
  }
  if (cert.keyAlgorithm === RSA) {
    const bits = rsaModulusBits(cert.publicKey);
    if (bits < 2048 || bits % 8 !== 0) return problem(name, code, `the RSA key has ${bits} bits (at least 2048, a multiple of 8)`);
  }
  return null;
}

/** RFC 5280 4.1.2.2: a positive integer of at most 20 octets. */
function serialProblem(cert: CertificateStructure): Problem | null {
  const serial = cert.serial;
  const negative = (serial[0]! & 0x80) !== 0;
  const zero = serial.every((b) => b === 0);
  const octets = serial[0] === 0 && serial.length > 1 ? serial.length - 1 : serial.length;
  if (negative || zero || octets > 20) return problem('INVALID_SERIAL_NUMBER', null, 'the serial number is not a positive integer of at most 20 octets');
  return null;
}

function rsaModulusBits(key: Buffer): number {
  let at = 0;
  const length = (start: number): [number, number] => {
    const first = key[start + 1]!;
    if (first < 0x80) return [2, first];
    let n = 0;
    for (let i = 0; i < (first & 0x7f); i++) n = n * 256 + key[start + 2 + i]!;
    return [2 + (first & 0x7f), n];
  };
  at += length(0)[0];
  const [header, size] = length(at);
  let modulus = key.subarray(at + header, at + header + size);
  while (modulus.length > 1 && modulus[0] === 0) modulus = modulus.subarray(1);
  return (modulus.length - 1) * 8 + (32 - Math.clz32(modulus[0] ?? 0));
}
