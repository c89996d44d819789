import { RateLimitedError, type RateLimitNotice } from '@certsmith/core';
import { AcmeError } from './problem.js';

// Limits on the account as a whole (Let's Encrypt: "too many new orders (300) recently", "too many new
// registrations (10) from this IP"): nothing else may be asked of that account meanwhile. Singular "new order"
// appears in per-name messages ("Error creating new order :: too many certificates ... for exact set"), so only
// the plural counts.
const ACCOUNT_WIDE = /\b(new orders|new registrations|new accounts|registrations? (per|from)|requests per|for this account|per account)\b/i;

/**
 * The CA said "slow down": an ACME `rateLimited` problem, HTTP 429, or HTTP 503 with Retry-After. Returns the error
 * to throw instead (a RateLimitedError the pipeline records in its ledger), or null for any other error.
 * Which names it holds back: the problem's identifiers, else the names the detail quotes ("example.com" covers
 * its subdomains), else the whole order; the whole account for an account-wide limit or an overloaded CA (503).
 */
export function rateLimitFrom(error: unknown, orderNames: string[], account: string): RateLimitedError | null {
  if (!(error instanceof AcmeError)) return null;
  const typed = error.type === 'rateLimited';
  if (!typed && error.status !== 429 && !(error.status === 503 && error.retryAfter)) return null;
  const detail = error.problem?.detail ?? error.message;
  const notice: RateLimitNotice = {
    scope: 'names',
    names: [],
    retryAfter: error.retryAfter,
    kind: typed ? 'rateLimited' : `HTTP ${error.status}`,
    detail,
    account,
  };
  const identifiers = [
    ...(error.problem?.identifier ? [error.problem.identifier.value] : []),
    ...(error.problem?.subproblems ?? []).flatMap((s) => (s.identifier ? [s.identifier.value] : [])),
  ];
  if (error.status === 503 || (!typed && !error.problem)) notice.scope = 'account';
  else if (identifiers.length) notice.names = identifiers;
  else if (ACCOUNT_WIDE.test(detail)) notice.scope = 'account';
  else {
    const quoted = [...detail.matchAll(/"([a-z0-9*][a-z0-9.*-]*\.[a-z0-9-]+)"/gi)].map((m) => m[1]!.toLowerCase());
    notice.names = orderNames.filter((name) => quoted.some((q) => name.toLowerCase() === q || name.toLowerCase().endsWith(`.${q}`)));
  }
  const code = typed || error.status === 429 ? 'ACME_RATE_LIMITED' : error.code;
  return new RateLimitedError(code, error.message, notice, { cause: error });
}

/**
 * Whether a refused order may be placed again without RFC 9773's `replaces` (the certificate is already replaced,
 * the CA does not know it, or dislikes the field): any client-side problem but those a second order would not cure.
 */
export function refusesReplaces(error: unknown): boolean {
  if (!(error instanceof AcmeError) || !error.problem || error.status === undefined) return false;
  if (error.status < 400 || error.status >= 500 || error.status === 429) return false;
  return !['rateLimited', 'badNonce', 'accountDoesNotExist', 'externalAccountRequired', 'userActionRequired'].includes(error.type ?? '');
}
