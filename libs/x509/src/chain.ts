import type { X509Certificate } from 'node:crypto';
import type { TrustStore } from './trust-store.js';

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
} as const;

export type VerifyErrorName = keyof typeof OPENSSL_VERIFY_ERRORS;

const REASONS: Record<VerifyErrorName, string> = {
  CERT_SIGNATURE_FAILURE: 'the signature does not verify with the issuer\'s key',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a self-signed certificate that is not in the trust store',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer certificate is neither in the files nor in the trust store',
  CERT_CHAIN_TOO_LONG: 'the chain is too long',
  INVALID_CA: 'an issuing certificate is not a CA',
};

export interface ChainFailure {
  depth: number;
  code: number;
  name: VerifyErrorName;
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

/**
 * Builds and verifies a chain the way `openssl verify` does (trusted issuers first, then the untrusted ones from
 * the files), and names the first error with OpenSSL's depth and code. Node exposes no chain verifier; this is
 * the part of OpenSSL's logic an administrator sees: missing issuer, self-signed, expiry, signature, CA flag.
 */
export function verifyChain(leaf: X509Certificate, untrusted: X509Certificate[], trust: TrustStore, now: Date): ChainVerdict {
  const path: X509Certificate[] = [leaf];
  const verified: boolean[] = [];
  const fail = (depth: number, name: VerifyErrorName): ChainVerdict => ({
    path, anchored, failure: { depth, code: OPENSSL_VERIFY_ERRORS[name], name, reason: REASONS[name], subject: oneLine(path[depth]!.subject) },
  });
  let anchored = false;
  for (;;) {
    const current = path[path.length - 1]!;
    if (trust.contains(current)) {
      anchored = true;
      break;
    }
    if (path.length > MAX_DEPTH) return fail(path.length - 1, 'CERT_CHAIN_TOO_LONG');
    const fromStore = findIssuer(current, trust.bySubjectName(current.issuer), now);
    if (fromStore) {
      path.push(fromStore.cert);
      verified[path.length - 2] = fromStore.signatureOk;
      anchored = true;
      break;
    }
    if (selfIssued(current)) return fail(path.length - 1, path.length === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN');
    const fromFiles = findIssuer(current, untrusted.filter((c) => !path.includes(c) && c.subject === current.issuer), now);
    if (!fromFiles) return fail(path.length - 1, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    path.push(fromFiles.cert);
    verified[path.length - 2] = fromFiles.signatureOk;
  }
  // check_chain_extensions before internal_verify, as OpenSSL orders them.
  for (let depth = path.length - 1; depth >= 1; depth--) {
    if (!path[depth]!.ca) return fail(depth, 'INVALID_CA');
  }
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const cert = path[depth]!;
    if (depth < path.length - 1 && !verified[depth]) return fail(depth, 'CERT_SIGNATURE_FAILURE');
    if (Date.parse(cert.validFrom) > now.getTime()) return fail(depth, 'CERT_NOT_YET_VALID');
    if (Date.parse(cert.validTo) < now.getTime()) return fail(depth, 'CERT_HAS_EXPIRED');
  }
  return { path, anchored, failure: null };
}

/** The candidate that issued `cert` (names and key identifiers match), preferring one whose signature verifies and that is valid now. */
function findIssuer(cert: X509Certificate, candidates: X509Certificate[], now: Date): { cert: X509Certificate; signatureOk: boolean } | null {
  let fallback: { cert: X509Certificate; signatureOk: boolean } | null = null;
  for (const candidate of candidates) {
    if (candidate === cert || !cert.checkIssued(candidate)) continue;
    const signatureOk = safeVerify(cert, candidate);
    const valid = Date.parse(candidate.validFrom) <= now.getTime() && Date.parse(candidate.validTo) >= now.getTime();
    if (signatureOk && valid) return { cert: candidate, signatureOk };
    if (!fallback || (signatureOk && !fallback.signatureOk)) fallback = { cert: candidate, signatureOk };
  }
  return fallback;
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

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}
