import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type Nats } from './nats.js';
import { portOpen } from './process.js';

describe('startNats', () => {
  let nats: Nats;
  beforeAll(async () => {
    nats = await startNats({ jetstream: true });
  }, 30_000);
  afterAll(async () => {
    await nats?.stop();
  });

  it('listens on loopback with JetStream, and comes back on the same port after a kill', async () => {
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(await portOpen(nats.address, nats.port)).toBe(true);
    await nats.kill();
    expect(await portOpen(nats.address, nats.port)).toBe(false);
    await nats.restart();
    expect(await portOpen(nats.address, nats.port)).toBe(true);
    expect(nats.log()).toMatch(/JetStream/);
  });
});
