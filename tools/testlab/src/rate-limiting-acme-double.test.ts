import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRateLimitingAcmeDouble, type RateLimitingAcmeDouble } from './rate-limiting-acme-double.js';

describe('the rate-limiting ACME test double', () => {
  let double: RateLimitingAcmeDouble;
  let agent: Agent;
  beforeAll(async () => {
    double = await startRateLimitingAcmeDouble({ renewalInfo: true });
    agent = new Agent({ connect: { ca: double.tlsCaPem } });
  });
  afterAll(async () => {
    await agent?.close();
    await double?.stop();
  });
  const jws = (payload: unknown) => JSON.stringify({ protected: 'e30', payload: Buffer.from(JSON.stringify(payload)).toString('base64url'), signature: 'AA' });

  it('serves a directory over TLS (verified against its lab CA), nonces and accounts, and answers newOrder with a rateLimited problem and Retry-After', async () => {
    const dir = await request(double.directoryUrl, { dispatcher: agent });
    const doc = (await dir.body.json()) as Record<string, string>;
    expect(doc.newOrder).toMatch(/^https:\/\/127\.\d+\.\d+\.\d+:\d+\/new-order$/);
    expect(doc.renewalInfo).toBeDefined();
    const nonce = await request(doc.newNonce!, { method: 'HEAD', dispatcher: agent });
    expect(nonce.headers['replay-nonce']).toBeTruthy();
    await nonce.body.dump();
    const acct = await request(doc.newAccount!, { method: 'POST', body: jws({ termsOfServiceAgreed: true }), dispatcher: agent });
    expect(acct.statusCode).toBe(201);
    expect(acct.headers.location).toMatch(/\/acct\/1$/);
    await acct.body.dump();
    const order = await request(doc.newOrder!, { method: 'POST', body: jws({ identifiers: [{ type: 'dns', value: 'a.test' }] }), dispatcher: agent });
    expect(order.statusCode).toBe(429);
    expect(order.headers['content-type']).toBe('application/problem+json');
    expect(order.headers['retry-after']).toBe('10800');
    expect(((await order.body.json()) as { type: string }).type).toBe('urn:ietf:params:acme:error:rateLimited');
    expect(double.orders()).toEqual([{ identifiers: [{ type: 'dns', value: 'a.test' }] }]);
    expect(double.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /dir', 'HEAD /nonce', 'POST /acct', 'POST /new-order']);
  });

  it('refuses `replaces` as alreadyReplaced when told to, and can answer a bare 503', async () => {
    double.behave({ rejectReplaces: true });
    const refused = await request(`${double.directoryUrl.replace('/dir', '')}/new-order`, {
      method: 'POST',
      body: jws({ identifiers: [], replaces: 'x.y' }),
      dispatcher: agent,
    });
    expect(refused.statusCode).toBe(409);
    expect(((await refused.body.json()) as { type: string }).type).toBe('urn:ietf:params:acme:error:alreadyReplaced');
    double.behave({ answer: 'unavailable', retryAfter: '120' });
    const busy = await request(`${double.directoryUrl.replace('/dir', '')}/new-order`, { method: 'POST', body: jws({ identifiers: [] }), dispatcher: agent });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('120');
    await busy.body.dump();
  });
});
