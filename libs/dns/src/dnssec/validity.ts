import type { RrsigData } from './types.js';

const SPAN = 2 ** 32;

/**
 * A 32-bit RRSIG time as a Date: the value modulo 2^32 closest to `now` (RFC 4034 section 3.1.5 compares them
 * in serial number arithmetic, so a signature stays readable past 2106).
 */
export function rrsigTime(value: number, now: Date): Date {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const base = nowSeconds - (nowSeconds % SPAN);
  let best = base + (value >>> 0);
  for (const candidate of [best - SPAN, best + SPAN]) if (Math.abs(candidate - nowSeconds) < Math.abs(best - nowSeconds)) best = candidate;
  return new Date(best * 1000);
}

/** Why an RRSIG is outside its validity window at `now`, or null when inside it. */
export function windowProblem(sig: RrsigData, now: Date): string | null {
  const inception = rrsigTime(sig.inception, now);
  const expiration = rrsigTime(sig.expiration, now);
  if (now > expiration) return `expired ${isoSeconds(expiration)}`;
  if (now < inception) return `not valid before ${isoSeconds(inception)}`;
  return null;
}

/** 2026-12-01T00:00:00Z: ISO 8601 to the second. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
