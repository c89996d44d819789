import { describe, expect, it } from 'vitest';
import { hasExpired, notYetValid } from './validity.js';

describe('validity (RFC 5280: notBefore and notAfter inclusive, whole seconds)', () => {
  const notBefore = Date.parse('2026-03-01T00:00:01Z');
  const notAfter = Date.parse('2026-04-01T00:00:00Z');

  it('is valid during the notAfter second and expired from the next one', () => {
    expect(hasExpired(notAfter, new Date(notAfter))).toBe(false);
    expect(hasExpired(notAfter, new Date(notAfter + 999))).toBe(false);
    expect(hasExpired(notAfter, new Date(notAfter + 1000))).toBe(true);
  });

  it('is not yet valid during the second before notBefore', () => {
    expect(notYetValid(notBefore, new Date(notBefore - 1))).toBe(true);
    expect(notYetValid(notBefore, new Date(notBefore))).toBe(false);
  });
});
