import type { X509Certificate } from 'node:crypto';
import { certificateProblem, type Problem, type Role } from './certificate-rules.js';
import { certificateStructure, type CertificateStructure } from './certificate-structure.js';
import { nameConstraintViolation } from './name-constraints.js';
import type { TrustStore } from './trust-store.js';
import { hasExpired, notYetValid, validAt } from './validity.js';
import { EXT, basicConstraints } from './x509-extensions.js';

/** OpenSSL's verify error numbers and names (x509_vfy.h), as cPanel prints them in OPENSSL_VERIFY:<depth>:<code>:<NAME>. */
export const OPENSSL_VERIFY_ERRORS = {
  CERT_SIGNATURE_FAILURE: 7,
  CERT_NOT_YET_VALID: 9,
  CERT_HAS_EXPIRED: 10,
  DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20,
  CERT_CHAIN_TOO_LONG: 22,
  INVALID_CA: 24,
  PATH_LENGTH_EXCEEDED: 25,
} as const;

export type VerifyErrorName = keyof typeof OPENSSL_VERIFY_ERRORS;

const REASONS: Record<VerifyErrorName, string> = {
  CERT_SIGNATURE_FAILURE: "the signature does not verify with the issuer's key",
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a self-signed certificate that is not in the trust store',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer certificate is neither in the files nor in the trust store',
  CERT_CHAIN_TOO_LONG: 'the chain is too long',
  INVALID_CA: 'an issuing certificate is not a CA',
  PATH_LENGTH_EXCEEDED: "a CA's pathLenConstraint allows fewer CA certificates below it",
};

export interface ChainFailure {
  depth: number;
  /** OpenSSL's verify error number; null for a rule OpenSSL does not have (certsmith's own name then). */
  code: number | null;
  name: string;
  reason: string;
  /** Subject of the certificate at that depth. */
  subject: string;
}

export interface ChainVerdict {
  /** The path from the leaf (depth 0) upwards, as far as it could be built; ends in the trust anchor when trusted. */
  path: X509Certificate[];
  /** Whether the last certificate of the path is in the trust store. */
  anchored: boolean;
  /** The first error OpenSSL would report, or null when the chain verifies. */
  failure: ChainFailure | null;
}

const MAX_DEPTH = 10;
/** Paths and issuer lookups tried before giving up: a bundle of many look-alike CAs must not make this exponential. */
const MAX_PATHS = 16;
const MAX_STEPS = 256;

/**
 * Builds and verifies a chain the way a browser does: every path from the leaf through the trust store and the
 * untrusted certificates of the files (trusted issuers first, issuers that verify and are valid now before the
 * others), judged by the rules OpenSSL applies (issuer, signature, validity, CA flag) and those of RFC 5280 and the
 * Web PKI (path length, name constraints, critical extensions, keys, EKU); the first path that passes wins. When
 * none does, the failure of the first is reported with OpenSSL's depth and code.
 */
export function verifyChain(leaf: X509Certificate, untrusted: X509Certificate[], trust: TrustStore, now: Date): ChainVerdict {
  let first: ChainVerdict | null = null;
  let tried = 0;
  const budget = { steps: MAX_STEPS };
  for (const candidate of candidatePaths([leaf], untrusted, trust, now, budget)) {
    const verdict = candidate.failure ? candidate : judge(candidate.path, candidate.anchored, now);
    if (!verdict.failure) return verdict;
    first ??= verdict;
    if (++tried >= MAX_PATHS) break;
  }
  return first ?? failed([leaf], false, 0, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
}

function failed(path: X509Certificate[], anchored: boolean, depth: number, name: VerifyErrorName): ChainVerdict {
  return { path, anchored, failure: { depth, code: OPENSSL_VERIFY_ERRORS[name], name, reason: REASONS[name], subject: oneLine(path[depth]!.subject) } };
}

function broken(path: X509Certificate[], anchored: boolean, depth: number, problem: Problem): ChainVerdict {
  return { path, anchored, failure: { depth, code: problem.code, name: problem.name, reason: problem.reason, subject: oneLine(path[depth]!.subject) } };
}

/** Every path upwards from `path`, depth first; a dead end is yielded as its failure. */
function* candidatePaths(
  path: X509Certificate[],
  untrusted: X509Certificate[],
  trust: TrustStore,
  now: Date,
  budget: { steps: number },
): Generator<ChainVerdict> {
  if (--budget.steps < 0) return;
  const current = path[path.length - 1]!;
  if (trust.contains(current)) {
    yield { path, anchored: true, failure: null };
    return;
  }
  if (path.length > MAX_DEPTH) {
    yield failed(path, false, path.length - 1, 'CERT_CHAIN_TOO_LONG');
    return;
  }
  const fromStore = issuers(current, trust.bySubjectName(current.issuer), now);
  for (const issuer of fromStore) yield { path: [...path, issuer], anchored: true, failure: null };
  if (fromStore.length === 0 && selfIssued(current)) {
    yield failed(path, false, path.length - 1, path.length === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN');
    return;
  }
  const fromFiles = issuers(
    current,
    untrusted.filter((c) => !path.includes(c) && c.subject === current.issuer),
    now,
  );
  if (fromStore.length === 0 && fromFiles.length === 0) {
    yield failed(path, false, path.length - 1, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    return;
  }
  for (const issuer of fromFiles) yield* candidatePaths([...path, issuer], untrusted, trust, now, budget);
}

/** The candidates that issued `cert` (names and key identifiers match): those that verify and are valid now first. */
function issuers(cert: X509Certificate, candidates: X509Certificate[], now: Date): X509Certificate[] {
  const rank = (c: X509Certificate) => (safeVerify(cert, c) ? 0 : 2) + (validAt(Date.parse(c.validFrom), Date.parse(c.validTo), now) ? 0 : 1);
  return candidates.filter((c) => c !== cert && cert.checkIssued(c)).sort((a, b) => rank(a) - rank(b));
}

/** OpenSSL's order: the CA flags, then signatures and validity from the top down; then the rules it does not apply. */
function judge(path: X509Certificate[], anchored: boolean, now: Date): ChainVerdict {
  for (let depth = path.length - 1; depth >= 1; depth--) {
    if (!path[depth]!.ca) return failed(path, anchored, depth, 'INVALID_CA');
  }
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const cert = path[depth]!;
    if (depth < path.length - 1 && !safeVerify(cert, path[depth + 1]!)) return failed(path, anchored, depth, 'CERT_SIGNATURE_FAILURE');
    if (notYetValid(Date.parse(cert.validFrom), now)) return failed(path, anchored, depth, 'CERT_NOT_YET_VALID');
    if (hasExpired(Date.parse(cert.validTo), now)) return failed(path, anchored, depth, 'CERT_HAS_EXPIRED');
  }
  for (let depth = 1; depth < path.length; depth++) {
    const cert = structureOf(path[depth]!);
    if (!cert) continue; // OpenSSL read it; this reader cannot: its checks stand
    const problem = problemOf(cert, anchored && depth === path.length - 1 ? 'anchor' : 'intermediate');
    if (problem) return broken(path, anchored, depth, problem);
    const pathLen = basicConstraints(cert)?.pathLen ?? null;
    // Self-issued intermediates below it do not count (RFC 5280 6.1.4 (l)).
    if (pathLen !== null && path.slice(1, depth).filter((c) => !sameNames(c)).length > pathLen) return failed(path, anchored, depth, 'PATH_LENGTH_EXCEEDED');
    for (let below = 0; cert.extensions.has(EXT.nameConstraints) && below < depth; below++) {
      const subject = structureOf(path[below]!);
      if (!subject || (below > 0 && sameNames(path[below]!))) continue;
      const violation = nameConstraintViolation(cert, subject);
      if (violation) return broken(path, anchored, below, violation);
    }
  }
  return { path, anchored, failure: null };
}

const structures = new WeakMap<X509Certificate, CertificateStructure | null>();
/** A CA's own problems, per role: CA certificates are shared by every leaf of a run, so each is judged once. */
const problems = new WeakMap<CertificateStructure, Map<Role, Problem | null>>();

function problemOf(cert: CertificateStructure, role: Role): Problem | null {
  let byRole = problems.get(cert);
  if (!byRole) problems.set(cert, (byRole = new Map()));
  if (!byRole.has(role)) byRole.set(role, certificateProblem(cert, role));
  return byRole.get(role)!;
}

function structureOf(cert: X509Certificate): CertificateStructure | null {
  let known = structures.get(cert);
  if (known === undefined) structures.set(cert, (known = certificateStructure(cert.raw)));
  return known;
}

/** RFC 5280's "self-issued": subject and issuer are the same DN (a CA's new key signed by its old one, say). */
function sameNames(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer;
}

function selfIssued(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.checkIssued(cert);
}

/** Signatures already checked, per certificate object: parsed CA certificates are shared, so each pair is verified once. */
const verified = new WeakMap<X509Certificate, WeakMap<X509Certificate, boolean>>();

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  let byIssuer = verified.get(cert);
  const known = byIssuer?.get(issuer);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = cert.verify(issuer.publicKey);
  } catch {
    ok = false;
  }
  if (!byIssuer) verified.set(cert, (byIssuer = new WeakMap()));
  byIssuer.set(issuer, ok);
  return ok;
}

/** node leaves `subject` undefined for an empty DN. */
function oneLine(dn: string | undefined): string {
  return (dn ?? '').split('\n').filter(Boolean).join(', ') || '(empty subject)';
}
