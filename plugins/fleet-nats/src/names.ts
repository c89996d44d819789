// NATS subjects and KV keys are dot-separated tokens: a hostname or an issuer id becomes one token.

/** One subject token / KV key part: anything but letters, digits, '-' and '_' becomes '_'. */
export function subjectToken(name: string): string {
  const token = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return token.length > 0 ? token : '_';
}

export const EVENT_SUBJECTS = 'certsmith.events.>';

export function eventSubject(host: string, event: string): string {
  return `certsmith.events.${host}.${subjectToken(event)}`;
}

export function statusKey(host: string): string {
  return host;
}

/** The subject a KV put of `key` publishes to, and the stream that holds it (a bucket made by the KV client). */
export function kvSubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

export function kvStream(bucket: string): string {
  return `KV_${bucket}`;
}

export const RATE_LIMIT_KEYS = 'ratelimit.>';

export function rateLimitKey(issuer: string): string {
  return `ratelimit.${subjectToken(issuer)}`;
}

export function leaseKeys(issuer: string, bound: number): string[] {
  return Array.from({ length: bound }, (_, n) => `lease.${subjectToken(issuer)}.${n}`);
}
