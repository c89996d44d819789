/**
 * RFC 5280 4.1.2.5: a certificate is valid from notBefore through notAfter inclusive, and both are whole seconds.
 * `now` is taken at the same granularity (the second it falls in), so a certificate is still valid during its
 * notAfter second and not yet valid during the second before its notBefore. Every validity test goes through here.
 */
export function wholeSecond(now: Date | number): number {
  return Math.floor(Number(now) / 1000) * 1000;
}

/** Expired: now is past notAfter (valid while now <= notAfter). */
export function hasExpired(notAfter: Date | number, now: Date | number): boolean {
  return wholeSecond(now) > Number(notAfter);
}

export function notYetValid(notBefore: Date | number, now: Date | number): boolean {
  return wholeSecond(now) < Number(notBefore);
}

export function validAt(notBefore: Date | number, notAfter: Date | number, now: Date | number): boolean {
  return !notYetValid(notBefore, now) && !hasExpired(notAfter, now);
}
