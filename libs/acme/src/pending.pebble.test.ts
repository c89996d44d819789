// Why an order is still pending, read from Debian's Pebble with its VA sleeping (PEBBLE_VA_NOSLEEP=0 and
// PEBBLE_VA_SLEEPTIME far beyond the test): answered challenges wait at the CA as a slow CA leaves them (Pebble keeps
// an answered challenge 'pending' until its VA wakes up; Sectigo shows 'processing').
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type Challenge, type DcvMethod, type IssueContext, type PendingOrder, type Published } from '@certsmith/core';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { randomLoopback, startPebble, type Pebble } from '@certsmith/testlab';
import { AcmeClient } from './client.js';
import { AcmeIssuer } from './issuer.js';
import { AccountKey } from './jws.js';
import { AcmeTransport } from './transport.js';

/** Records what it is asked to publish and remove; the VA sleeps past the test, so nothing needs serving. */
class RecordingDcv implements DcvMethod {
  readonly id = 'http-record';
  readonly live = new Set<string>();
  readonly answers = ['http-file'] as const;
  async publish(c: Challenge): Promise<Published> {
    if (c.kind !== 'http-file') throw new Error('unsupported');
    const token = c.path.slice('/.well-known/acme-challenge/'.length);
    this.live.add(token);
    return { method: this.id, challenge: c, where: token, handle: token };
  }
  async check(p: Published) {
    return { name: p.challenge.name, ok: true };
  }
  async cleanup(p: Published): Promise<void> {
    this.live.delete(p.handle as string);
  }
}

describe('pending orders against Pebble with a slow VA', () => {
  let pebble: Pebble;
  let dir: string;
  const dcv = new RecordingDcv();
  const T0 = new Date('2026-03-01T00:00:00Z');

  beforeAll(async () => {
    pebble = await startPebble({ address: randomLoopback(), env: { PEBBLE_VA_NOSLEEP: '0', PEBBLE_VA_SLEEPTIME: '1000000' } });
    dir = await mkdtemp(join(tmpdir(), 'certsmith-acme-pending-'));
  }, 60_000);
  afterAll(async () => {
    await pebble?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const issuer = () =>
    new AcmeIssuer({
      id: 'acme',
      directoryUrl: pebble.directoryUrl,
      caPem: pebble.tlsCaPem,
      eab: pebble.eab,
      issuerPatterns: [/Pebble/],
      accountKeyType: 'ES256',
      challengeTypes: ['http-01'],
      maxWaitMs: 0,
      precheck: 'http',
    });
  const context = (now: Date): IssueContext => ({
    bus: createBus(),
    dcv: [dcv],
    clock: { now: () => now },
    signal: AbortSignal.timeout(60_000),
    stateDir: join(dir, 'state'),
  });

  it("records each name's authorization and answered challenge, keeps `since` on resume, and abandons by deactivating", async () => {
    const names = ['slow.example.test', 'www.slow.example.test'];
    const csr = await new WebCryptoCsrFactory().create(names, { type: 'ecdsa-p256' });
    const first = await issuer().issue({ target: { id: 'hostname', names, services: [], kind: 'hostname' }, names, csr }, context(T0));
    expect(first.status).toBe('pending');
    const order = (first as { order: PendingOrder }).order;
    expect(slowVa(pebble)).toBe(true);
    expect(order.orderStatus).toBe('pending');
    expect(order.authorizations).toEqual(
      names.map((name) => ({ name, status: 'pending', challenge: { type: 'http-01', status: 'pending' }, since: T0.toISOString() })),
    );
    expect(dcv.live.size).toBe(2); // left published: the CA may still fetch them

    // Two days later: still waiting, `since` carried, the order's age kept.
    const later = new Date(T0.getTime() + 51 * 3_600_000);
    const second = await issuer().resume(order, csr, context(later));
    expect(second.status).toBe('pending');
    const resumed = (second as { order: PendingOrder }).order;
    expect(resumed.createdAt).toBe(T0.toISOString());
    expect(resumed.authorizations?.map((a) => [a.name, a.challenge?.status, a.since])).toEqual(names.map((n) => [n, 'pending', T0.toISOString()]));
    const checked = await issuer().checkPending(resumed, context(later));
    expect(checked.authorizations).toEqual(resumed.authorizations);

    // Abandoned: both authorizations deactivated at the CA, the published challenges removed.
    const said = await issuer().abandon(resumed, context(later));
    expect(said).toBe(`deactivated the authorizations of ${names.join(', ')} at the CA`);
    expect(dcv.live.size).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'state', 'challenges.json'), 'utf8'))).toEqual({});
    const client = new AcmeClient(pebble.directoryUrl, new AcmeTransport({ caPem: pebble.tlsCaPem }));
    try {
      const account = JSON.parse(await readFile(join(dir, 'state', 'account.json'), 'utf8')) as { url: string; keyPem: string };
      await client.directory(AbortSignal.timeout(10_000));
      client.useAccount(await AccountKey.fromPem(account.keyPem, 'ES256'), account.url);
      const atCa = await client.getOrder(order.reference, AbortSignal.timeout(10_000));
      const statuses = await Promise.all(atCa.authorizations.map(async (url) => (await client.getAuthorization(url, AbortSignal.timeout(10_000))).status));
      expect(statuses).toEqual(['deactivated', 'deactivated']);
      const after = await issuer().checkPending(resumed, context(later));
      expect(after.authorizations?.map((a) => [a.status, a.since])).toEqual([
        ['deactivated', later.toISOString()],
        ['deactivated', later.toISOString()],
      ]);
    } finally {
      await client.transport.close();
    }
  });
});

/** Pebble says it sleeps before validating: the slow VA this test depends on is really there. */
function slowVa(pebble: Pebble): boolean {
  return /Setting maximum random VA sleep time to 1000000 seconds/.test(pebble.log());
}
