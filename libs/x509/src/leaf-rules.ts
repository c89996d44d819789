import type { Defect } from '@certsmith/core';
import type { ParsedCertificate } from './certificate.js';
import { certificateProblem, keyProblem } from './certificate-rules.js';
import { certificateStructure } from './certificate-structure.js';

interface Placed {
  parsed: ParsedCertificate;
  path: string;
}

/**
 * The rules of RFC 5280 and the Baseline Requirements on the server certificate itself (certificate-rules.ts), as
 * defects that replace it: a CA as the leaf, key usage keyCertSign, critical extensions it must not have, a
 * commonName outside the SAN, a bad serial... Read from the DER, on the healthy path too.
 */
export function leafRuleDefects(leaf: Placed): Defect[] {
  const structure = certificateStructure(leaf.parsed.der);
  const problem = structure && certificateProblem(structure, 'leaf');
  if (!problem) return [];
  return [
    {
      code: problem.name,
      ...(problem.code !== null ? { cpanel: `OPENSSL_VERIFY:0:${problem.code}:${problem.name}` } : {}),
      message: problem.reason,
      severity: 'replace',
      path: leaf.path,
    },
  ];
}

/** Why the leaf's key is weak beyond its size (DSA, explicit EC parameters, RSA not a multiple of 8), or null. */
export function weakKeyReason(cert: ParsedCertificate): string | null {
  const structure = certificateStructure(cert.der);
  return (structure && keyProblem(structure, 'leaf')?.reason) ?? null;
}

/**
 * The service presents the first certificate of its certificate file as its own. When that is a CA certificate,
 * the file is in the wrong order (the server certificate comes later) or holds no server certificate at all: one
 * defect naming the file says which, instead of inspecting a CA as if it were the server's.
 */
export function servedCertificateDefect(certificates: Placed[]): Defect | null {
  const first = certificates[0];
  if (!first?.parsed.ca) return null;
  const meant = certificates.find((c) => !c.parsed.ca);
  // A lone self-signed CA is the administrator's own certificate (`openssl req -x509` makes it a CA): SELF_SIGNED.
  if (!meant && first.parsed.summary.selfSigned) return null;
  const ca = `"${first.parsed.summary.subject}"`;
  if (meant) {
    return {
      code: `WRONG_CERTIFICATE_ORDER:${first.path}`,
      message: `${first.path}: the first certificate is the CA ${ca}, which the service presents as its own; the server certificate "${meant.parsed.summary.subject}"${meant.path === first.path ? '' : ` (in ${meant.path})`} must come first`,
      severity: 'replace',
      path: first.path,
    };
  }
  return {
    code: `INVALID_CERTIFICATE:${first.path}`,
    message: `${first.path}: holds only CA certificates (the first is ${ca}), no server certificate`,
    severity: 'replace',
    path: first.path,
  };
}
