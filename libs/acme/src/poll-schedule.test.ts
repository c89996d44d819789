// The polling schedule, with the clock and the sleep injected: what the order flow waits, never how long a test takes.
import { describe, expect, it } from 'vitest';
import { createBus, type Challenge, type DcvMethod, type Published } from '@certsmith/core';
import type { AcmeClient, Authorization, Order } from './client.js';
import { AccountKey } from './jws.js';
import { driveOrder } from './order-flow.js';
import { fakeOrder } from '../testing/fake-order.js';
import { DEFAULT_POLL_MAX_MS, DEFAULT_POLL_START_MS, PollSchedule, ValidationPace, type PollTiming } from './poll-schedule.js';

const at = (ms: number) => new Date(ms);

describe('PollSchedule', () => {
  it('starts short and doubles up to the cap', () => {
    const schedule = new PollSchedule(1_000_000);
    const waits = Array.from({ length: 12 }, () => schedule.next(0));
    expect(waits).toEqual([25, 50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
    expect([DEFAULT_POLL_START_MS, DEFAULT_POLL_MAX_MS]).toEqual([25, 5_000]);
  });

  it("waits exactly as long as the CA's Retry-After says, however short or long the own step is", () => {
    const schedule = new PollSchedule(1_000_000, 25, 5_000);
    expect(schedule.next(10_000, at(11_000))).toBe(1_000);
    expect(schedule.next(20_000, at(23_500))).toBe(3_500);
    // Without Retry-After the own doubling goes on where it was.
    expect(schedule.next(30_000)).toBe(100);
    // Later than the cap: the CA's word still.
    expect(schedule.next(40_000, at(70_000))).toBe(30_000);
  });

  it('takes "Retry-After: 0" (or a time already past) as one short step, not as a reason to ask in a loop', () => {
    const schedule = new PollSchedule(1_000_000, 25, 5_000);
    expect(schedule.next(5_000, at(5_000))).toBe(25);
    expect(schedule.next(5_000, at(4_000))).toBe(25);
  });

  it('never waits past the wait bound: its own step is cut to what is left once; a Retry-After beyond it ends the waiting', () => {
    const own = new PollSchedule(1_000, 400, 5_000);
    expect(own.next(0)).toBe(400);
    expect(own.next(400)).toBe(600); // 800 would end past the bound
    expect(own.next(1_000)).toBeNull();
    const told = new PollSchedule(1_000, 25, 5_000);
    expect(told.next(0, at(900))).toBe(900);
    expect(told.next(900, at(1_900))).toBeNull();
  });
});

/** A CA scripted in memory: the order turns ready after `pendingPolls` looks, each answer with the given Retry-After. */
function scriptedCa(options: { pendingPolls: number; retryAfterMs?: number; challengeRetryAfterMs?: number; timing: FakeTiming }) {
  const url = 'https://ca.test/order/1';
  const names = ['a.test', 'www.a.test'];
  let looks = 0;
  let finalized = false;
  const retryAfter = (ms: number | undefined) => (ms === undefined ? {} : { retryAfter: at(options.timing.now() + ms) });
  const order = (status: Order['status']): Order => fakeOrder(url, names, status);
  const client = {
    getAuthorization: async (authzUrl: string): Promise<Authorization> => {
      const name = authzUrl.split('/').pop()!;
      return {
        url: authzUrl,
        status: 'pending',
        identifier: { type: 'dns', value: name },
        challenges: [{ type: 'http-01', url: `https://ca.test/chall/${name}`, status: 'pending', token: `token-${name.replace(/\./g, '-')}` }],
      };
    },
    respond: async (challenge: { url: string }) => ({
      ...challenge,
      type: 'http-01',
      status: 'processing' as const,
      ...retryAfter(options.challengeRetryAfterMs),
    }),
    getOrder: async () => {
      options.timing.log.push(`look at ${options.timing.now()}`);
      if (finalized) return order('valid');
      return { ...order(++looks > options.pendingPolls ? 'ready' : 'pending'), ...retryAfter(options.retryAfterMs) };
    },
    finalize: async () => {
      finalized = true;
      return order('valid');
    },
    certificate: async () => ({ pems: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----'], url: 'https://ca.test/cert/1', topIssuer: null }),
  };
  return { client: client as unknown as AcmeClient, start: order('pending') };
}

interface FakeTiming extends PollTiming {
  log: string[];
}

/** Time moves only when the flow sleeps; every sleep is logged. */
function fakeTiming(): FakeTiming {
  let now = 1_000_000;
  const log: string[] = [];
  return {
    log,
    now: () => now,
    sleep: async (ms) => {
      log.push(`sleep ${ms}`);
      now += ms;
    },
  };
}

const dcv: DcvMethod = {
  id: 'memory',
  answers: ['http-file', 'dns-txt'],
  publish: async (challenge: Challenge): Promise<Published> => ({ method: 'memory', challenge, where: 'memory', handle: null }),
  check: async (published) => ({ name: published.challenge.name, ok: true }),
  cleanup: async () => undefined,
};

async function drive(options: { pendingPolls: number; retryAfterMs?: number; challengeRetryAfterMs?: number; maxWaitMs?: number }) {
  const timing = fakeTiming();
  const { client, start } = scriptedCa({ ...options, timing });
  const outcome = await driveOrder(
    start,
    new Uint8Array([1]),
    {
      client,
      accountKey: await AccountKey.generate(),
      dcv: [dcv],
      target: { id: 't', names: ['a.test', 'www.a.test'], services: [], kind: 'site' },
      bus: createBus(),
      signal: new AbortController().signal,
      timing,
    },
    { challengeTypes: ['http-01'], maxWaitMs: options.maxWaitMs ?? 60_000 },
  );
  return { outcome, log: timing.log };
}

describe('driveOrder polling (injected clock)', () => {
  it('looks first after one short step, then backs off while the order is pending', async () => {
    const { outcome, log } = await drive({ pendingPolls: 3 });
    expect(outcome.status).toBe('issued');
    expect(log).toEqual([
      'sleep 25',
      'look at 1000025',
      'sleep 50',
      'look at 1000075',
      'sleep 100',
      'look at 1000175',
      'sleep 200',
      'look at 1000375',
      // finalized: the answer was already valid, no look after it
    ]);
  });

  it("honours the CA's Retry-After on the challenge answers and on every pending look", async () => {
    const { outcome, log } = await drive({ pendingPolls: 2, retryAfterMs: 1_000, challengeRetryAfterMs: 2_000 });
    expect(outcome.status).toBe('issued');
    expect(log).toEqual(['sleep 2000', 'look at 1002000', 'sleep 1000', 'look at 1003000', 'sleep 1000', 'look at 1004000']);
  });

  it('a Retry-After beyond the wait bound leaves the order pending rather than asking early', async () => {
    const { outcome, log } = await drive({ pendingPolls: 5, retryAfterMs: 30_000, maxWaitMs: 10_000 });
    expect(outcome.status).toBe('pending');
    expect(log).toEqual(['sleep 25', 'look at 1000025']);
  });
});

describe('ValidationPace', () => {
  it('starts at the first step, then puts the first look where this CA decided its orders, probing a little sooner after a hit', () => {
    const pace = new ValidationPace(25, 5_000);
    expect(pace.firstStep()).toBe(25);
    // Pending at 25 ms, decided at 75 ms: somewhere in between.
    pace.observe(75, 25);
    expect(pace.firstStep()).toBe(50);
    // Decided at the first look (50 ms): a little sooner next time.
    pace.observe(50);
    expect(pace.firstStep()).toBe(44);
    // A slow CA (pending at 1.5 s, decided at 3.1 s) moves it up, never past the cap nor below the first step.
    pace.observe(3_100, 1_500);
    expect(pace.firstStep()).toBe(1_172);
    for (let i = 0; i < 10; i++) pace.observe(60_000, 50_000);
    expect(pace.firstStep()).toBe(5_000);
    for (let i = 0; i < 40; i++) pace.observe(1);
    expect(pace.firstStep()).toBe(25);
  });

  it("the order flow looks first where the run's pace says, and tells it what it saw", async () => {
    const timing = fakeTiming();
    const pace = new ValidationPace();
    const order = async (pendingPolls: number) => {
      timing.log.length = 0;
      const { client, start } = scriptedCa({ pendingPolls, timing });
      await driveOrder(
        start,
        new Uint8Array([1]),
        {
          client,
          accountKey: await AccountKey.generate(),
          dcv: [dcv],
          target: { id: 't', names: ['a.test', 'www.a.test'], services: [], kind: 'site' },
          bus: createBus(),
          signal: new AbortController().signal,
          timing,
          pace,
        },
        { challengeTypes: ['http-01'], maxWaitMs: 60_000 },
      );
      return timing.log.filter((l) => l.startsWith('sleep'));
    };
    expect(await order(2)).toEqual(['sleep 25', 'sleep 50', 'sleep 100']); // pending at 75 ms, decided at 175 ms
    expect(await order(0)).toEqual(['sleep 125']); // the first look where the last order was decided
  });
});
