import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Container, TOKENS, contributionsOf, createBus, type CertsmithConfig, type FleetLink, type FleetSlot, type Issuer } from '@certsmith/core';
import { startNats, type Nats } from '@certsmith/testlab';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest } from './index.js';

async function hostOf(nats: Nats, hostname: string, options: Record<string, unknown>): Promise<FleetLink> {
  const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
  const config = { file: join(stateDir, 'certsmith.json'), hostname, paths: { stateDir } } as unknown as CertsmithConfig;
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Clock).toConstantValue({ now: () => new Date() });
  const contributed = await contributionsOf(manifest, { servers: [nats.url], ...options }, config, root, createBus());
  return contributed.fleet[0]!;
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
});
