import type { AuthorizationState, PendingOrder } from './contracts.js';

/** An authorization as reported on the `issued` event: the saved state and how long it has been so. */
export interface AuthorizationReport extends AuthorizationState {
  /** Seconds since `since`, at the time of the event. */
  forSeconds: number;
}

/**
 * The state a name is in, in one word: the challenge's status while the authorization waits on it (a challenge
 * the CA is checking is 'processing'), else the authorization's own status.
 */
export function nameState(a: Pick<AuthorizationState, 'status' | 'challenge'>): string {
  if (a.status === 'pending' && a.challenge && a.challenge.status !== 'pending') return a.challenge.status;
  return a.status;
}

/**
 * Carries `since` over from the previous run's record of the same name when nothing changed (authorization status,
 * challenge type and status); a change, or a name seen for the first time, starts at `now`.
 */
export function carrySince(fresh: Omit<AuthorizationState, 'since'>[], previous: AuthorizationState[] | undefined, now: Date): AuthorizationState[] {
  return fresh.map((a) => {
    const before = previous?.find((p) => p.name === a.name);
    const same =
      before &&
      before.status === a.status &&
      before.challenge?.type === a.challenge?.type &&
      before.challenge?.status === a.challenge?.status &&
      !Number.isNaN(Date.parse(before.since));
    return { ...a, since: same ? before.since : now.toISOString() };
  });
}

/** The names that keep the order from completing: every one whose authorization is not valid. */
export function holdersOf(order: Pick<PendingOrder, 'authorizations'>): AuthorizationState[] {
  return (order.authorizations ?? []).filter((a) => a.status !== 'valid');
}

/** A duration as an administrator reads it: "2d 3h", "3h 20m", "4m", "12s". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** The per-name lines and summary of a pending order, with the age of each state measured at `now`. */
export function reportAuthorizations(order: Pick<PendingOrder, 'authorizations'>, now: Date): AuthorizationReport[] {
  return (order.authorizations ?? []).map((a) => ({ ...a, forSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(a.since)) / 1000)) }));
}

/** One name's line: `www.a.test: authorization pending, http-01 challenge processing for 2d 3h (error: ...)`. */
export function authorizationLine(a: AuthorizationReport): string {
  const challenge = a.challenge ? `${a.challenge.type} challenge ${a.challenge.status}` : a.status === 'pending' ? 'no challenge answered yet' : '';
  const problem = a.challenge?.error;
  const error = problem ? ` (error: ${[problem.type?.replace(/^urn:ietf:params:acme:error:/, ''), problem.detail].filter(Boolean).join(': ')})` : '';
  return `${a.name}: authorization ${a.status}${challenge ? `, ${challenge}` : ''} for ${formatAge(a.forSeconds * 1000)}${error}`;
}

/**
 * The summary of who holds the order: `www.a.test (processing for 2d 3h), mail.a.test (pending for 2d 3h)`.
 * With every name valid, the CA itself holds it (finalization or issuance not finished).
 */
export function heldBy(order: Pick<PendingOrder, 'authorizations' | 'orderStatus'>, reports: AuthorizationReport[]): string {
  const holders = reports.filter((a) => a.status !== 'valid');
  if (holders.length) return holders.map((a) => `${a.name} (${nameState(a)} for ${formatAge(a.forSeconds * 1000)})`).join(', ');
  if (reports.length) return `the CA (every name is valid; the order is ${order.orderStatus ?? 'not finished'})`;
  return `unknown (the CA's authorizations were not read)`;
}

export interface AbandonPlan {
  /** How old the order is (from its createdAt). */
  ageMs: number;
  /** Names that held the order and are left out of the next one. */
  dropped: string[];
  /** Whether the primary name was among the holders: it cannot be dropped, so the next order tries it afresh. */
  primaryHeld: boolean;
  holders: AuthorizationState[];
}

/**
 * Whether a pending order has outlived the deadline and is to be abandoned. An order that no name holds (every
 * authorization valid, the CA is issuing) is never abandoned: a new order would wait for the same CA. An order whose
 * authorizations were never read (a state file from an older certsmith) is abandoned without dropping any name.
 */
export function abandonPlan(order: PendingOrder, now: Date, afterHours: number, primary: string): AbandonPlan | null {
  const ageMs = now.getTime() - Date.parse(order.createdAt);
  if (!(ageMs > afterHours * 3_600_000)) return null;
  const holders = holdersOf(order);
  if (order.authorizations?.length && holders.length === 0) return null;
  const primaryHeld = holders.some((a) => a.name === primary);
  return { ageMs, dropped: holders.map((a) => a.name).filter((n) => n !== primary), primaryHeld, holders };
}
