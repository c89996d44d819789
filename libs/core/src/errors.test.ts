import { describe, expect, it } from 'vitest';
import { CertsmithError, failureOf } from './errors.js';
import { RateLimitedError } from './rate-limits.js';

describe('failureOf', () => {
  it('takes the kind the error declares, and calls an undeclared one a plain failure', () => {
    expect(failureOf(new CertsmithError('X', 'down', { outcome: 'transient' }))).toBe('transient');
    expect(failureOf(new CertsmithError('X', 'gone', { outcome: 'refused' }))).toBe('refused');
    expect(failureOf(new CertsmithError('CA_UNREACHABLE', 'no kind declared'))).toBe('failed');
    expect(failureOf(new Error('bug'))).toBe('failed');
  });

  it('calls an aborted or timed-out request and a rate limit transient', () => {
    expect(failureOf(new DOMException('late', 'TimeoutError'))).toBe('transient');
    expect(failureOf(new DOMException('stop', 'AbortError'))).toBe('transient');
    expect(failureOf(new RateLimitedError('ACME_RATE_LIMITED', 'slow down', { scope: 'account', names: [], kind: 'rateLimited', detail: '' }))).toBe(
      'transient',
    );
  });
});
