import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Container, TOKENS, contributionsOf, createBus, type CertsmithConfig, type FleetLink, type FleetSlot, type Issuer } from '@certsmith/core';
import { startNats, type Nats } from '@certsmith/testlab';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest, NatsFleet, settingsOf, type RawFleetOptions } from './index.js';

async function hostOf(nats: Nats, hostname: string, options: Record<string, unknown>): Promise<FleetLink> {
  const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
  const config = { file: join(stateDir, 'certsmith.json'), hostname, paths: { stateDir } } as unknown as CertsmithConfig;
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Clock).toConstantValue({ now: () => new Date() });
  const contributed = await contributionsOf(manifest, { servers: [nats.url], ...options }, config, root, createBus());
  return contributed.fleet[0]!;
}

/** A host whose clocks the test gives: the run's Clock and the monotonic one of the wait budget. */
async function hostWithClocks(nats: Nats, hostname: string, options: Partial<RawFleetOptions>, clocks: { now?: () => Date; elapsed?: () => number }) {
  const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
  const settings = settingsOf({ servers: [nats.url], ...options }, {
    file: join(stateDir, 'certsmith.json'),
    hostname,
    paths: { stateDir },
  } as CertsmithConfig);
  return new NatsFleet(settings, { clock: { now: clocks.now ?? (() => new Date()) }, elapsed: clocks.elapsed });
}

/** A monotonic clock that moves on `step` ms at every reading: each call to NATS seems to take about that long. */
function creepingClock(step: number) {
  const clock = { ms: 0, read: () => (clock.ms += step) };
  return clock;
}

const issuer = (id: string) => ({ id }) as Issuer;
const settled = <T>(promise: Promise<T>) => {
  const state: { value?: T; done: boolean } = { done: false };
  void promise.then((value) => Object.assign(state, { value, done: true }));
  return state;
};

describe('the fleet bound on orders in flight', () => {
  let nats: Nats;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNats({ jetstream: true });
    nc = await connect({ servers: nats.url });
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('makes a third host wait while two hold the bound of 2, and lets it in at a release', async () => {
    const options = { ordersInFlight: 2, leaseBucket: 'bound-leases' };
    const [a, b, c] = await Promise.all(['a.test', 'b.test', 'c.test'].map((h) => hostOf(nats, h, options)));
    const signal = AbortSignal.timeout(20_000);
    const slotA = await a!.orderSlot(issuer('letsencrypt'), signal);
    const slotB = await b!.orderSlot(issuer('letsencrypt'), signal);
    expect(slotA?.token).toMatch(/^\d+$/);
    expect(slotB?.token).toMatch(/^\d+$/);
    const third = settled(c!.orderSlot(issuer('letsencrypt'), signal));
    await sleep(1_500);
    expect(third.done).toBe(false);
    // Another CA account has its own slots.
    expect(await c!.orderSlot(issuer('other-ca'), signal)).not.toBeNull();
    await slotA!.release();
    const deadline = Date.now() + 5_000;
    while (!third.done && Date.now() < deadline) await sleep(100);
    expect(third.value).not.toBeNull();
    await (third.value as FleetSlot).release();
    await slotB!.release();
  });

  it("refuses a stale holder's release once its lease ran out and another host took the slot", async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'stale-leases', leaseSeconds: 2 };
    const [a, b] = await Promise.all(['a.test', 'b.test'].map((h) => hostOf(nats, h, options)));
    const signal = AbortSignal.timeout(20_000);
    const stale = await a!.orderSlot(issuer('letsencrypt'), signal);
    // The key goes as the bucket's TTL would take it while the holder is frozen (a GC pause, a stopped VM).
    const kv = await new Kvm(nc).open('stale-leases');
    await kv.purge('lease.letsencrypt.0');
    const fresh = await b!.orderSlot(issuer('letsencrypt'), signal);
    expect(fresh).not.toBeNull();
    await stale!.release();
    const entry = await kv.get('lease.letsencrypt.0');
    expect(entry?.operation).toBe('PUT');
    expect(entry?.json<{ host: string }>().host).toBe('b.test');
    // The stale holder's refresh does not take it back either.
    await sleep(1_500);
    expect((await kv.get('lease.letsencrypt.0'))?.json<{ host: string }>().host).toBe('b.test');
    await fresh!.release();
  });

  it('frees the slot of a holder that died without releasing it when the lease TTL runs out', async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'dead-leases', leaseSeconds: 2 };
    const b = await hostOf(nats, 'b.test', options);
    // Make the bucket with its TTL, then a holder takes the slot and is never heard of again.
    const first = await b.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000));
    await first!.release();
    const kv = await new Kvm(nc).open('dead-leases');
    await kv.create('lease.letsencrypt.0', JSON.stringify({ host: 'dead.test', at: new Date().toISOString() }));
    const started = Date.now();
    const slot = await b.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(15_000));
    expect(slot).not.toBeNull();
    expect(Date.now() - started).toBeGreaterThan(1_000);
    await slot!.release();
  });

  it('counts a malformed lease as taken, with a warning naming its key, and gives up when the signal aborts', async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'forged-leases' };
    const a = await hostOf(nats, 'a.test', options);
    const first = await a.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000));
    await first!.release();
    await (await new Kvm(nc).open('forged-leases')).put('lease.letsencrypt.0', 'forged');
    expect(await a.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(1_200))).toBeNull();
    expect(a.takeWarnings()).toEqual([expect.stringContaining('lease.letsencrypt.0')]);
  });

  it('keeps a host waiting through many budgets of "all taken" answers, and gives it the slot at a release, with no warning', async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'busy-leases', maxWaitMs: 200, slotWaitSeconds: 86_400 };
    const a = await hostOf(nats, 'a.test', options);
    const signal = AbortSignal.timeout(30_000);
    const held = await a.orderSlot(issuer('letsencrypt'), signal);
    expect(held).not.toBeNull();
    const clock = creepingClock(20);
    const b = await hostWithClocks(nats, 'b.test', options, { elapsed: clock.read });
    const waiting = settled(b.orderSlot(issuer('letsencrypt'), signal));
    // About ten readings a look: 80 ms of calls each, 200 ms in all. Charged to the budget, these looks would spend it
    // three times over.
    while (clock.ms < 8 * options.maxWaitMs && !waiting.done) await sleep(50);
    expect(waiting.done).toBe(false);
    await held!.release();
    while (!waiting.done && !signal.aborted) await sleep(50);
    expect(waiting.value?.token).toMatch(/^\d+$/);
    expect(b.takeWarnings()).toEqual([]);
    await waiting.value!.release();
  });

  it('ends a wait for a slot at slotWaitSeconds, with one warning naming the issuer, and the order goes without one', async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'long-leases', slotWaitSeconds: 1 };
    const a = await hostOf(nats, 'a.test', options);
    const signal = AbortSignal.timeout(30_000);
    const held = await a.orderSlot(issuer('letsencrypt'), signal);
    const b = await hostWithClocks(nats, 'b.test', options, { elapsed: creepingClock(100).read });
    expect(await b.orderSlot(issuer('letsencrypt'), signal)).toBeNull();
    expect(signal.aborted).toBe(false);
    expect(b.takeWarnings()).toEqual([expect.stringMatching(/^no order slot for letsencrypt came free in 1 s \(slotWaitSeconds/)]);
    await held!.release();
  });

  it('goes on alone within the budget, with one warning, when NATS stops while a host waits for a slot', async () => {
    const own = await startNats({ jetstream: true });
    try {
      const options = { ordersInFlight: 1, leaseBucket: 'stopping-leases', slotWaitSeconds: 86_400 };
      const a = await hostOf(own, 'a.test', options);
      const signal = AbortSignal.timeout(30_000);
      expect(await a.orderSlot(issuer('letsencrypt'), signal)).not.toBeNull();
      const clock = creepingClock(20);
      const b = await hostWithClocks(own, 'b.test', options, { elapsed: clock.read });
      const waiting = settled(b.orderSlot(issuer('letsencrypt'), signal));
      while (clock.ms < 600 && !waiting.done) await sleep(50); // a few looks
      expect(waiting.done).toBe(false);
      await own.stop();
      const stoppedAt = clock.ms;
      while (!waiting.done && !signal.aborted) await sleep(50);
      expect(waiting.value).toBeNull();
      // The failed look is the only time charged since: less than the 2 s budget of the run.
      expect(clock.ms - stoppedAt).toBeLessThan(2_000);
      expect(b.takeWarnings()).toEqual([expect.stringMatching(/^NATS at .* is not usable/)]);
    } finally {
      await own.stop();
    }
  });

  it('names a lease bucket made without a TTL once, and takes over a lease not written for longer than the lease', async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'ttl-less-leases', leaseSeconds: 60 };
    const kv = await new Kvm(nc).create('ttl-less-leases', { history: 1 });
    const dead = await kv.create('lease.letsencrypt.0', JSON.stringify({ host: 'dead.test', at: new Date().toISOString() }));
    // While the lease is younger than leaseSeconds (by the server's time of the write), it holds.
    const early = await hostWithClocks(nats, 'b.test', options, {});
    expect(await early.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(1_200))).toBeNull();
    const warned = early.takeWarnings();
    expect(warned).toEqual([expect.stringContaining('lease bucket ttl-less-leases has no TTL')]);
    // A later run, past the lease: the key is still there (no TTL took it), and is taken over at its revision.
    const later = new Date(Date.now() + 61_000);
    const b = await hostWithClocks(nats, 'b.test', options, { now: () => later });
    const slot = await b.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000));
    expect(Number(slot?.token)).toBeGreaterThan(dead);
    expect((await kv.get('lease.letsencrypt.0'))?.json<{ host: string }>().host).toBe('b.test');
    expect(b.takeWarnings()).toEqual(warned);
    // The dead holder, back, cannot free the slot it lost.
    await kv.delete('lease.letsencrypt.0', { previousSeq: dead }).catch(() => undefined);
    expect((await kv.get('lease.letsencrypt.0'))?.operation).toBe('PUT');
    await slot!.release();
  });
});
