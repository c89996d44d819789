import { CertsmithError, type FailureKind } from '@certsmith/core';

/** An RFC 7807 problem document as an ACME server sends it (RFC 8555 section 6.7). */
export interface ProblemDocument {
  type?: string;
  detail?: string;
  status?: number;
  subproblems?: { type?: string; detail?: string; identifier?: { type: string; value: string } }[];
  identifier?: { type: string; value: string };
}

const ACME_NS = 'urn:ietf:params:acme:error:';

// Stable codes for the ACME error types; anything else is ACME_PROBLEM with the CA's own type in the message.
const CODES: Record<string, string> = {
  accountDoesNotExist: 'ACME_ACCOUNT_DOES_NOT_EXIST',
  alreadyReplaced: 'ACME_ALREADY_REPLACED',
  alreadyRevoked: 'ACME_ALREADY_REVOKED',
  badCSR: 'ACME_BAD_CSR',
  badNonce: 'ACME_BAD_NONCE',
  badPublicKey: 'ACME_BAD_PUBLIC_KEY',
  badRevocationReason: 'ACME_BAD_REVOCATION_REASON',
  badSignatureAlgorithm: 'ACME_BAD_SIGNATURE_ALGORITHM',
  caa: 'ACME_CAA',
  compound: 'ACME_COMPOUND',
  connection: 'ACME_CONNECTION',
  dns: 'ACME_DNS',
  externalAccountRequired: 'EAB_REQUIRED',
  incorrectResponse: 'ACME_INCORRECT_RESPONSE',
  invalidContact: 'ACME_INVALID_CONTACT',
  invalidProfile: 'ACME_INVALID_PROFILE',
  malformed: 'ACME_MALFORMED',
  orderNotReady: 'ACME_ORDER_NOT_READY',
  rateLimited: 'ACME_RATE_LIMITED',
  rejectedIdentifier: 'ACME_REJECTED_IDENTIFIER',
  serverInternal: 'ACME_SERVER_INTERNAL',
  tls: 'ACME_TLS',
  unauthorized: 'ACME_UNAUTHORIZED',
  unsupportedContact: 'ACME_UNSUPPORTED_CONTACT',
  unsupportedIdentifier: 'ACME_UNSUPPORTED_IDENTIFIER',
  userActionRequired: 'ACME_USER_ACTION_REQUIRED',
};

/**
 * What a failure means for the run, by stable code: the core decides retry and fallback on the kind alone. The CA
 * unreachable, overloaded or rate limiting may pass on a later run; a request it cannot take (an order or account
 * it no longer has, a request it calls malformed or unauthorized) is refused for good. Anything else: 'failed'.
 */
const OUTCOMES: Record<string, FailureKind> = {
  CA_UNREACHABLE: 'transient',
  CA_UNAVAILABLE: 'transient',
  ACME_SERVER_INTERNAL: 'transient',
  ACME_RATE_LIMITED: 'transient',
  ACME_ACCOUNT_DOES_NOT_EXIST: 'refused',
  ACME_INVALID_CONTACT: 'refused',
  ACME_INVALID_PROFILE: 'refused',
  ACME_MALFORMED: 'refused',
  ACME_ORDER_INVALID: 'refused',
  ACME_UNAUTHORIZED: 'refused',
};

/** A problem the CA reported, or a CA that does not speak ACME properly. The message carries the CA's own detail. */
export class AcmeError extends CertsmithError {
  readonly problem: ProblemDocument | undefined;
  readonly status: number | undefined;
  /** When the CA said to come back (rateLimited, 503), if it did. */
  readonly retryAfter: Date | undefined;
  /** The Replay-Nonce the error response carried, for the next request. */
  nonce: string | undefined;
  constructor(code: string, message: string, extra: { problem?: ProblemDocument; status?: number; retryAfter?: Date; hint?: string; cause?: unknown } = {}) {
    super(code, message, { hint: extra.hint, cause: extra.cause, outcome: OUTCOMES[code] ?? 'failed' });
    this.name = 'AcmeError';
    this.problem = extra.problem;
    this.status = extra.status;
    this.retryAfter = extra.retryAfter;
  }

  /** The short ACME type ('badNonce', 'rateLimited', ...) or undefined for a non-ACME failure. */
  get type(): string | undefined {
    const type = this.problem?.type;
    return type?.startsWith(ACME_NS) ? type.slice(ACME_NS.length) : type;
  }
}

/** The stable code for an ACME error type (full URN or short). */
export function codeOfProblemType(type: string | undefined): string {
  if (!type) return 'ACME_PROBLEM';
  const short = type.startsWith(ACME_NS) ? type.slice(ACME_NS.length) : type;
  return CODES[short] ?? 'ACME_PROBLEM';
}

/** Turns a problem document into a typed error whose message says what happened, in the CA's words. */
export function problemToError(problem: ProblemDocument, context: { status: number; url: string; retryAfter?: Date }): AcmeError {
  const code = codeOfProblemType(problem.type);
  const detail = problem.detail ?? '(no detail)';
  const subs = (problem.subproblems ?? []).map((s) => `${s.identifier?.value ?? '?'}: ${s.detail ?? s.type ?? ''}`).join('; ');
  const when = context.retryAfter ? ` (retry after ${context.retryAfter.toISOString()})` : '';
  const kind = code === 'ACME_PROBLEM' ? ` [${problem.type ?? 'untyped'}]` : '';
  return new AcmeError(code, `the CA said${kind}: ${detail}${subs ? ` (${subs})` : ''}${when}`, {
    problem,
    status: context.status,
    retryAfter: context.retryAfter,
  });
}

/** Retry-After as seconds or an HTTP date (RFC 9110 section 10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): Date | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return new Date(now.getTime() + Number(text.trim()) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at);
}
