import { mkdtemp } from 'node:fs/promises';
import { connect as connectTcp, createServer, type AddressInfo, type Socket } from 'node:net';
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

/** A monotonic clock that stands where the test puts it. */
function handClock() {
  const clock = { ms: 0, read: () => clock.ms };
  return clock;
}

/**
 * A TCP relay to the server that can hold back what its clients send (`holding`): a call made through it then gets no
 * answer, as from a server that stopped answering, while the connection stays up. `held` counts the bytes held back.
 */
async function relayTo(nats: Nats) {
  const state = { holding: false, held: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connectTcp(nats.port, nats.address);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => [client, upstream].forEach((s) => s.destroy()));
    }
    client.on('data', (chunk: Buffer) => (state.holding ? (state.held += chunk.length) : upstream.write(chunk)));
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    nats: { ...nats, url: `nats://127.0.0.1:${port}` },
    state,
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits for `done`, at most `ms` (a bound on a test that would otherwise hang, not a measure). */
async function until(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(50);
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
    expect(b.takeWarnings()).toEqual([expect.stringMatching(/^FLEET_SLOT_WAIT: no order slot for letsencrypt came free in 1 s \(slotWaitSeconds/)]);
    await held!.release();
  });

  it("waits once a run for an issuer's slots: past slotWaitSeconds from the first wait, a later order goes without one at once", async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'run-wait-leases', slotWaitSeconds: 1 };
    const a = await hostOf(nats, 'a.test', options);
    const held = await a.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000));
    expect(held).not.toBeNull();
    const clock = handClock();
    const b = await hostWithClocks(nats, 'b.test', options, { elapsed: clock.read });
    const first = settled(b.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000)));
    await until(() => first.done, 1_500); // a look or more: all taken
    expect(first.done).toBe(false);
    clock.ms = 1_000; // the wait has lasted slotWaitSeconds
    await until(() => first.done);
    expect(first).toEqual({ done: true, value: null });
    expect(b.takeWarnings()).toEqual([
      expect.stringMatching(/^FLEET_SLOT_WAIT: no order slot for letsencrypt came free in 1 s .*: orders of this run that find none free go without one$/),
    ]);
    // The next order of the run looks once and does not wait again (the clock stands still: a new wait would not end).
    const signal = AbortSignal.timeout(5_000);
    expect(await b.orderSlot(issuer('letsencrypt'), signal)).toBeNull();
    expect(signal.aborted).toBe(false);
    expect(b.takeWarnings()).toEqual([]);
    // Another CA account's wait is its own; and a slot free at the first look is still taken.
    expect(await b.orderSlot(issuer('other-ca'), signal)).not.toBeNull();
    await held!.release();
    expect(await b.orderSlot(issuer('letsencrypt'), signal)).not.toBeNull();
  });

  it('ends a look for a slot that NATS does not answer when the run is stopped, long before the budget', async () => {
    const options = { ordersInFlight: 1, leaseBucket: 'unanswered-leases', maxWaitMs: 600_000, slotWaitSeconds: 86_400 };
    const a = await hostOf(nats, 'a.test', options);
    const held = await a.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000));
    expect(held).not.toBeNull();
    const relay = await relayTo(nats);
    try {
      const clock = creepingClock(20);
      const b = await hostWithClocks(relay.nats, 'b.test', options, { elapsed: clock.read });
      const stop = new AbortController();
      const waiting = settled(b.orderSlot(issuer('letsencrypt'), stop.signal));
      await until(() => clock.ms >= 600 || waiting.done); // a few looks: all taken
      expect(waiting.done).toBe(false);
      relay.state.holding = true;
      await until(() => relay.state.held > 0); // the next look is out, and will get no answer
      expect(relay.state.held).toBeGreaterThan(0);
      stop.abort();
      await until(() => waiting.done);
      expect(waiting).toEqual({ done: true, value: null });
    } finally {
      await relay.close();
      await held!.release();
    }
  });

  it("takes over a lease only when older than the longer of its own lease and the holder's", async () => {
    const kv = await new Kvm(nc).create('mixed-leases', { history: 1 });
    // The holder keeps 900 s and refreshes every 300 s; the bucket has no TTL.
    const holder = await hostOf(nats, 'a.test', { ordersInFlight: 1, leaseBucket: 'mixed-leases', leaseSeconds: 900 });
    const held = await holder.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000));
    const written = (await kv.get('lease.letsencrypt.0'))!;
    expect(written.json<{ leaseSeconds: number }>().leaseSeconds).toBe(900);
    const looker = (seconds: number) =>
      hostWithClocks(
        nats,
        'b.test',
        { ordersInFlight: 1, leaseBucket: 'mixed-leases', leaseSeconds: 300, slotWaitSeconds: 1 },
        { now: () => new Date(written.created.getTime() + seconds * 1000), elapsed: creepingClock(100).read },
      );
    // Past this host's 300 s, within the holder's 900 s: the holder is live (its refresh is due at 300 s).
    const early = await looker(301);
    expect(await early.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000))).toBeNull();
    expect((await kv.get('lease.letsencrypt.0'))?.revision).toBe(written.revision);
    const late = await looker(901);
    const taken = await late.orderSlot(issuer('letsencrypt'), AbortSignal.timeout(10_000));
    expect(Number(taken?.token)).toBeGreaterThan(written.revision);
    await taken!.release();
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
