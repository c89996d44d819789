import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomLoopback } from './loopback.js';
import { startPebble, type Pebble } from './pebble.js';

describe('startPebble', () => {
  let pebble: Pebble;
  beforeAll(async () => {
    pebble = await startPebble({ address: randomLoopback() });
  });
  afterAll(async () => {
    await pebble?.stop();
  });

  it('serves a directory over TLS signed by its throw-away CA, with EAB required', async () => {
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connect: { ca: pebble.tlsCaPem } });
    const response = await request(pebble.directoryUrl, { dispatcher });
    const directory = (await response.body.json()) as { newAccount: string; meta: { externalAccountRequired: boolean } };
    await dispatcher.close();
    expect(directory.newAccount).toMatch(/^https:\/\/127\./);
    expect(directory.meta.externalAccountRequired).toBe(true);
    expect(pebble.eab.hmacKey.startsWith('-')).toBe(true);
  });

  it('hands out its root on the management interface', async () => {
    const root = await pebble.management('/roots/0');
    expect(root.status).toBe(200);
    expect(root.body).toContain('BEGIN CERTIFICATE');
    expect(pebble.orderCount()).toBe(0);
  });
});
