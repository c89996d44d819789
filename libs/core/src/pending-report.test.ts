import { describe, expect, it } from 'vitest';
import type { AuthorizationState, PendingOrder } from './contracts.js';
import { abandonPlan, authorizationLine, carrySince, formatAge, heldBy, holdersOf, nameState, reportAuthorizations } from './pending-report.js';

const T0 = new Date('2026-03-01T00:00:00Z');
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

const order = (authorizations?: AuthorizationState[], extra: Partial<PendingOrder> = {}): PendingOrder => ({
  issuer: 'acme',
  target: 'hostname',
  reference: 'https://ca.test/order/1',
  names: ['a.test', 'www.a.test', 'mail.a.test'],
  createdAt: T0.toISOString(),
  authorizations,
  ...extra,
});
const processing = (name: string, since = T0): AuthorizationState => ({
  name,
  status: 'pending',
  challenge: { type: 'http-01', status: 'processing' },
  since: since.toISOString(),
});
const valid = (name: string): AuthorizationState => ({ name, status: 'valid', challenge: { type: 'http-01', status: 'valid' }, since: T0.toISOString() });

describe('pending order report', () => {
  it('formats ages as days and hours, hours and minutes, minutes, seconds', () => {
    expect(formatAge((2 * 24 + 3) * 3_600_000 + 59 * 60_000)).toBe('2d 3h');
    expect(formatAge(3 * 3_600_000 + 20 * 60_000 + 5_000)).toBe('3h 20m');
    expect(formatAge(4 * 60_000 + 59_999)).toBe('4m');
    expect(formatAge(12_400)).toBe('12s');
    expect(formatAge(-5_000)).toBe('0s');
  });

  it('names the state by the challenge while the authorization waits on it, else by the authorization', () => {
    expect(nameState(processing('a'))).toBe('processing');
    expect(nameState({ status: 'pending', challenge: { type: 'dns-01', status: 'pending' } })).toBe('pending');
    expect(nameState({ status: 'pending' })).toBe('pending');
    expect(nameState({ status: 'invalid', challenge: { type: 'http-01', status: 'invalid' } })).toBe('invalid');
  });

  it('carries `since` across runs while nothing changed, and resets it on any change of status or challenge', () => {
    const previous = [processing('a.test', T0), { name: 'www.a.test', status: 'pending', since: T0.toISOString() }, processing('mail.a.test', T0)];
    const now = hours(51);
    const next = carrySince(
      [
        { name: 'a.test', status: 'pending', challenge: { type: 'http-01', status: 'processing' } }, // unchanged
        { name: 'www.a.test', status: 'pending', challenge: { type: 'http-01', status: 'processing' } }, // answered since
        { name: 'mail.a.test', status: 'valid', challenge: { type: 'http-01', status: 'valid' } }, // passed
        { name: 'new.a.test', status: 'pending' }, // first seen
      ],
      previous,
      now,
    );
    expect(next.map((a) => a.since)).toEqual([T0.toISOString(), now.toISOString(), now.toISOString(), now.toISOString()]);
    // A `since` that is not a date is not carried.
    expect(carrySince([{ name: 'a.test', status: 'pending' }], [{ name: 'a.test', status: 'pending', since: 'yesterday' }], now)[0]!.since).toBe(
      now.toISOString(),
    );
  });

  it('prints one line per name and a summary of the names holding the order, with their ages', () => {
    const o = order([
      valid('a.test'),
      processing('www.a.test', T0),
      {
        name: 'mail.a.test',
        status: 'pending',
        challenge: { type: 'http-01', status: 'pending', error: { type: 'urn:ietf:params:acme:error:connection', detail: 'timeout fetching the token' } },
        since: hours(24).toISOString(),
      },
    ]);
    const reports = reportAuthorizations(o, hours(51));
    expect(reports.map((r) => r.forSeconds)).toEqual([51 * 3600, 51 * 3600, 27 * 3600]);
    expect(reports.map(authorizationLine)).toEqual([
      'a.test: authorization valid, http-01 challenge valid for 2d 3h',
      'www.a.test: authorization pending, http-01 challenge processing for 2d 3h',
      'mail.a.test: authorization pending, http-01 challenge pending for 1d 3h (error: connection: timeout fetching the token)',
    ]);
    expect(heldBy(o, reports)).toBe('www.a.test (processing for 2d 3h), mail.a.test (pending for 1d 3h)');
    expect(holdersOf(o).map((a) => a.name)).toEqual(['www.a.test', 'mail.a.test']);
    expect(authorizationLine({ name: 'x.test', status: 'pending', since: T0.toISOString(), forSeconds: 90 })).toBe(
      'x.test: authorization pending, no challenge answered yet for 1m',
    );
  });

  it('says the CA holds an order whose names are all valid', () => {
    const o = order([valid('a.test')], { orderStatus: 'processing' });
    expect(heldBy(o, reportAuthorizations(o, hours(1)))).toBe('the CA (every name is valid; the order is processing)');
  });

  it('abandons past the deadline only, drops the holders but never the primary name', () => {
    const o = order([valid('a.test'), processing('www.a.test'), processing('mail.a.test')]);
    expect(abandonPlan(o, hours(72), 72, 'a.test')).toBeNull(); // exactly at the deadline: not yet
    const plan = abandonPlan(o, hours(73), 72, 'a.test');
    expect(plan).toMatchObject({ ageMs: 73 * 3_600_000, dropped: ['www.a.test', 'mail.a.test'], primaryHeld: false });

    const primary = order([processing('a.test'), processing('www.a.test'), valid('mail.a.test')]);
    expect(abandonPlan(primary, hours(100), 72, 'a.test')).toMatchObject({ dropped: ['www.a.test'], primaryHeld: true });
    // Every name valid: the CA is issuing; a new order would wait for the same CA.
    expect(abandonPlan(order([valid('a.test')], { orderStatus: 'processing' }), hours(500), 72, 'a.test')).toBeNull();
    // Authorizations never read (an older state file): abandoned, no name dropped.
    expect(abandonPlan(order(undefined), hours(500), 72, 'a.test')).toMatchObject({ dropped: [], primaryHeld: false });
    // A shorter deadline applies at once.
    expect(abandonPlan(o, hours(2), 1, 'a.test')?.dropped).toEqual(['www.a.test', 'mail.a.test']);
  });
});
