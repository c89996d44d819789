import { describe, expect, it } from 'vitest';
import { ariWindowProblem, renewalByAri, renewalByLifetime } from './renewal-timing.js';

const DAY = 86_400_000;
const START = new Date('2026-12-01T00:00:00Z');
const cpanel = { providerThresholdDays: 25, otherThresholdDays: 3 };
const after = (days: number) => new Date(START.getTime() + days * DAY);
/** Days before notAfter that the certificate becomes due. */
const lead = (lifetimeDays: number, provider: boolean) => {
  const timing = renewalByLifetime(START, after(lifetimeDays), provider, cpanel);
  return { days: (after(lifetimeDays).getTime() - timing.dueAt.getTime()) / DAY, rule: timing.rule, reason: timing.reason };
};

describe('renewalByLifetime', () => {
  it.each([
    // lifetime, provider, days before expiry, rule
    [6, true, 3, 'lifetime'], // shortlived: at half its life
    [6, false, 3, 'lifetime'],
    [45, true, 15, 'lifetime'], // 25 days would be more than half of 45: a third
    [90, true, 30, 'lifetime'], // a third (30) is earlier than cPanel's 25
    [60, true, 25, 'threshold'], // cPanel's 25 is earlier than a third (20): never later than cPanel
    [90, false, 3, 'threshold'], // someone else's certificate: taken over in its last 3 days only
    [365, false, 3, 'threshold'],
    [4, false, 2, 'lifetime'], // 3 days would be most of its life: half
    [1, true, 0.5, 'lifetime'],
  ])('a %d-day certificate (provider %s) is due %d days before it expires (%s)', (days, provider, expected, rule) => {
    const timing = lead(days, provider);
    expect(timing.days).toBeCloseTo(expected, 6);
    expect(timing.rule).toBe(rule);
  });

  it('never makes a certificate due in the first half of its life, whatever the thresholds', () => {
    for (const days of [0.5, 2, 6, 9.9, 10, 30, 45, 50, 90, 397]) {
      for (const provider of [true, false]) {
        for (const thresholds of [cpanel, { providerThresholdDays: 400, otherThresholdDays: 400 }]) {
          const timing = renewalByLifetime(START, after(days), provider, thresholds);
          expect(timing.dueAt.getTime()).toBeGreaterThanOrEqual(after(days / 2).getTime());
        }
      }
    }
  });

  it('says the rule in words', () => {
    expect(lead(6, true).reason).toBe('half of its 6-day lifetime');
    expect(lead(90, true).reason).toBe('a third of its 90-day lifetime');
    expect(lead(60, true).reason).toBe('the 25-day threshold for certificates from the configured provider');
    expect(lead(90, false).reason).toBe('the 3-day threshold for other certificates');
  });
});

describe('ARI windows', () => {
  const notAfter = after(6);
  it('accepts a window inside the lifetime and picks a point in it by the spread', () => {
    const window = { start: after(3), end: after(4) };
    expect(ariWindowProblem(window, notAfter)).toBeNull();
    expect(renewalByAri(window, 0).dueAt).toEqual(after(3));
    expect(renewalByAri(window, 0.5).dueAt).toEqual(after(3.5));
    expect(renewalByAri(window, 0.5).rule).toBe('ari');
  });

  it('refuses a window that ends before it starts, starts after expiry, or has no dates', () => {
    expect(ariWindowProblem({ start: after(4), end: after(3) }, notAfter)).toMatch(/ends .* before it starts/);
    expect(ariWindowProblem({ start: after(7), end: after(8) }, notAfter)).toMatch(/after the certificate expires/);
    expect(ariWindowProblem({ start: new Date(NaN), end: after(8) }, notAfter)).toMatch(/no valid dates/);
  });
});
