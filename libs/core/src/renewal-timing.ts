const DAY = 86_400_000;

/** Lifetimes under this renew at half their life instead of at a third: a 6-day certificate keeps three days of slack. */
const SHORT_LIFETIME_DAYS = 10;

/** Which rule set the moment a certificate is due for renewal (the log and the report name it). */
export type RenewalRule = 'ari' | 'lifetime' | 'threshold';

export interface RenewalTiming {
  /** From this moment on the certificate is due. */
  dueAt: Date;
  rule: RenewalRule;
  /** The rule in words, for the log: "a third of its 90-day lifetime", "the 25-day threshold for ...". */
  reason: string;
}

export interface RenewalThresholds {
  /** cPanel's 25 days for certificates from the configured provider. */
  providerThresholdDays: number;
  /** cPanel's 3 days for any other certificate. */
  otherThresholdDays: number;
}

/**
 * When a certificate becomes due by its own dates (the rule used when the CA offers no ARI window):
 * - a third of its lifetime before notAfter (half for lifetimes under 10 days), so a 6-day certificate is renewed
 *   once, at half its life, and a 45-day one keeps 15 days of slack;
 * - a certificate from the configured provider is never renewed later than the provider threshold (25 days) when
 *   it is long enough for that threshold to leave it half its life (a 90-day one: at 30 days left);
 * - any other certificate (one an administrator installed) keeps cPanel's meaning: it is taken over only in its
 *   last days (3), or at the lifetime rule when that is later (a 4-day certificate: at 2 days left).
 * The lead never exceeds half the lifetime, so a certificate just issued is never due.
 */
export function renewalByLifetime(notBefore: Date, notAfter: Date, providerIssued: boolean, thresholds: RenewalThresholds): RenewalTiming {
  const lifetime = Math.max(0, notAfter.getTime() - notBefore.getTime());
  const lifetimeDays = lifetime / DAY;
  const short = lifetimeDays < SHORT_LIFETIME_DAYS;
  const byLifetime = lifetime / (short ? 2 : 3);
  const lifetimeWords = `${short ? 'half' : 'a third'} of its ${formatDays(lifetimeDays)}-day lifetime`;
  const lifetimeTiming = (): RenewalTiming => ({ dueAt: new Date(notAfter.getTime() - byLifetime), rule: 'lifetime', reason: lifetimeWords });
  const threshold = (providerIssued ? thresholds.providerThresholdDays : thresholds.otherThresholdDays) * DAY;
  const thresholdTiming = (): RenewalTiming => ({
    dueAt: new Date(notAfter.getTime() - threshold),
    rule: 'threshold',
    reason: `the ${formatDays(threshold / DAY)}-day threshold for ${providerIssued ? 'certificates from the configured provider' : 'other certificates'}`,
  });
  if (threshold > lifetime / 2) return lifetimeTiming();
  if (providerIssued) return threshold > byLifetime ? thresholdTiming() : lifetimeTiming();
  return threshold < byLifetime ? thresholdTiming() : lifetimeTiming();
}

/**
 * An ARI window (RFC 9773) the rules can use, or the reason it cannot: a window that ends before it starts, or that
 * starts after the certificate has expired, is not advice anyone can follow.
 */
export function ariWindowProblem(window: { start: Date; end: Date }, notAfter: Date | null): string | null {
  const { start, end } = window;
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return 'the suggested window has no valid dates';
  if (end.getTime() < start.getTime()) return `the suggested window ends (${iso(end)}) before it starts (${iso(start)})`;
  if (notAfter && start.getTime() > notAfter.getTime()) return `the suggested window starts (${iso(start)}) after the certificate expires (${iso(notAfter)})`;
  return null;
}

/**
 * The moment in an ARI window a certificate is renewed: the same on every run for one certificate and spread across
 * certificates (RFC 9773 asks for a random point; `spread` in [0, 1) comes from a hash of the certificate).
 */
export function renewalByAri(window: { start: Date; end: Date }, spread: number): RenewalTiming {
  const at = window.start.getTime() + spread * Math.max(0, window.end.getTime() - window.start.getTime());
  return {
    dueAt: new Date(at),
    rule: 'ari',
    reason: `the CA's renewal window (ACME Renewal Information) ${iso(window.start)} to ${iso(window.end)}`,
  };
}

function formatDays(days: number): string {
  return Number.isInteger(days) ? String(days) : days.toFixed(1);
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
