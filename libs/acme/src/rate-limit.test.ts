// Rate limits and ARI's `replaces` through the AcmeIssuer, against the testlab's rate-limiting ACME double
// (Pebble has neither rate limits nor ARI).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, rateLimitOf, type FailedEvent, type IssueContext, type RateLimitedError } from '@certsmith/core';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { createCa, labDir, startRateLimitingAcmeDouble, type LabCert, type RateLimitingAcmeDouble } from '@certsmith/testlab';
import { ariCertIdOf } from './ari.js';
import { AcmeIssuer } from './issuer.js';
import { AcmeError } from './problem.js';
import { rateLimitFrom, refusesReplaces } from './rate-limit.js';

const NAMES = ['www.a.test', 'a.test'];

describe('AcmeIssuer and a CA that rate-limits', () => {
  let double: RateLimitingAcmeDouble;
  let dir: { path: string; cleanup: () => Promise<void> };
  let current: LabCert;
  beforeAll(async () => {
    double = await startRateLimitingAcmeDouble();
    dir = await labDir('acme-rate-limit');
    const ca = await createCa(join(dir.path, 'ca'), { cn: 'Lab Provider CA' });
    current = await ca.issue('current', { cn: NAMES[0], san: NAMES, days: 10 });
  });
  afterAll(async () => {
    await double?.stop();
    await dir?.cleanup();
  });

  let runs = 0;
  async function issue(replaces?: string) {
    const failures: FailedEvent[] = [];
    const bus = createBus();
    bus.on('failed', (e) => failures.push(e));
    const ctx: IssueContext = {
      bus,
      dcv: [],
      clock: { now: () => new Date() },
      signal: AbortSignal.timeout(20_000),
      stateDir: join(dir.path, `state-${++runs}`),
    };
    const issuer = new AcmeIssuer({
      id: 'sectigo',
      directoryUrl: double.directoryUrl,
      caPem: double.tlsCaPem,
      issuerPatterns: [],
      accountKeyType: 'ES256',
      challengeTypes: ['http-01'],
      maxWaitMs: 1_000,
      precheck: 'http',
    });
    const csr = await new WebCryptoCsrFactory().create(NAMES, { type: 'ecdsa-p256' });
    const error = await issuer.issue({ target: { id: 'shop', names: NAMES, services: [], kind: 'site' }, names: NAMES, csr, replaces }, ctx).then(
      () => null,
      (e: unknown) => e,
    );
    return { error: error as RateLimitedError, failures };
  }

  it("a 429 rateLimited problem becomes ACME_RATE_LIMITED with the names, the CA's Retry-After, its detail and the account", async () => {
    double.behave({ retryAfter: '7200', detail: 'too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s' });
    const before = Date.now();
    const { error } = await issue();
    expect(error.code).toBe('ACME_RATE_LIMITED');
    const notice = rateLimitOf(error)!;
    expect(notice).toMatchObject({ scope: 'names', names: [], kind: 'rateLimited', account: `${double.directoryUrl.replace('/dir', '')}/acct/1` });
    expect(notice.detail).toContain('exact set of identifiers');
    expect(notice.retryAfter!.getTime() - before).toBeGreaterThanOrEqual(7_199_000);
    expect(error.message).toContain('the CA said: too many certificates (5)');
  });

  it('an account-wide limit ("too many new orders") and an overloaded CA (bare 503 + Retry-After) hold back the whole account', async () => {
    double.behave({ detail: 'too many new orders (300) since 2026-11-25T03:00:00Z' });
    expect(rateLimitOf((await issue()).error)).toMatchObject({ scope: 'account' });
    double.behave({ answer: 'unavailable', retryAfter: 'Wed, 25 Nov 2026 09:00:00 GMT' });
    const { error } = await issue();
    expect(error.code).toBe('CA_UNAVAILABLE');
    expect(rateLimitOf(error)).toMatchObject({ scope: 'account', kind: 'HTTP 503', retryAfter: new Date('2026-11-25T09:00:00Z') });
    double.behave({ answer: 'rateLimited', retryAfter: '10800', detail: undefined });
  });

  it('a renewal carries `replaces` (the ARI id of the certificate in place) when the directory offers renewalInfo, and not otherwise', async () => {
    double.behave({ renewalInfo: false });
    const orders = double.orders().length;
    await issue(current.certPem);
    expect(double.orders().slice(orders)).toEqual([{ identifiers: NAMES.map((value) => ({ type: 'dns', value })) }]);
    double.behave({ renewalInfo: true });
    await issue(current.certPem);
    expect(double.orders().slice(orders + 1)).toEqual([
      { identifiers: NAMES.map((value) => ({ type: 'dns', value })), replaces: ariCertIdOf(current.certPem) },
    ]);
  });

  it('an order refused because of `replaces` is placed once more without it, with a warning', async () => {
    double.behave({ renewalInfo: true, rejectReplaces: true });
    const orders = double.orders().length;
    const { error, failures } = await issue(current.certPem);
    const placed = double.orders().slice(orders);
    expect(placed.map((o) => o.replaces)).toEqual([ariCertIdOf(current.certPem), undefined]);
    expect(failures).toEqual([
      expect.objectContaining({ code: 'ARI_REPLACES_REFUSED', severity: 'warning', target: 'shop', issuer: 'sectigo', next: 'order again without "replaces"' }),
    ]);
    expect(failures[0]!.message).toContain('has already been replaced');
    expect(error.code).toBe('ACME_RATE_LIMITED'); // the second order met the rate limit
    double.behave({ rejectReplaces: false });
  });
});

describe('rateLimitFrom', () => {
  const problem = (detail: string, extra: Record<string, unknown> = {}) =>
    new AcmeError('ACME_RATE_LIMITED', `the CA said: ${detail}`, {
      status: 429,
      problem: { type: 'urn:ietf:params:acme:error:rateLimited', detail, ...extra },
    });

  it("names the problem's identifiers, else the order names under a quoted domain, else the whole order", () => {
    const names = ['www.a.test', 'a.test', 'b.test'];
    expect(
      rateLimitOf(rateLimitFrom(problem('limits', { subproblems: [{ identifier: { type: 'dns', value: 'b.test' }, detail: 'x' }] }), names, 'acct')),
    ).toMatchObject({ scope: 'names', names: ['b.test'] });
    expect(rateLimitOf(rateLimitFrom(problem('too many certificates (50) already issued for "a.test" in the last 168h0m0s'), names, 'acct'))).toMatchObject({
      scope: 'names',
      names: ['www.a.test', 'a.test'],
    });
    expect(
      rateLimitOf(rateLimitFrom(problem('Error creating new order :: too many certificates already issued for exact set of domains'), names, 'acct')),
    ).toMatchObject({ scope: 'names', names: [] });
    expect(rateLimitOf(rateLimitFrom(problem('too many new registrations (10) from this IP'), names, 'acct'))).toMatchObject({ scope: 'account' });
  });

  it('leaves every other error alone; a bare 429 is account-wide; a 503 without Retry-After is an outage, not a limit', () => {
    expect(rateLimitFrom(new Error('x'), [], 'a')).toBeNull();
    expect(rateLimitFrom(new AcmeError('ACME_MALFORMED', 'm', { status: 400, problem: { type: 'urn:ietf:params:acme:error:malformed' } }), [], 'a')).toBeNull();
    expect(rateLimitFrom(new AcmeError('CA_UNAVAILABLE', 'down', { status: 503 }), [], 'a')).toBeNull();
    const bare = rateLimitFrom(new AcmeError('ACME_BAD_RESPONSE', 'slow down', { status: 429 }), [], 'a')!;
    expect(bare.code).toBe('ACME_RATE_LIMITED');
    expect(rateLimitOf(bare)).toMatchObject({ scope: 'account', kind: 'HTTP 429' });
  });

  it('refusesReplaces: a client-side problem other than rate limits, nonces and the account itself', () => {
    const e = (type: string, status: number) => new AcmeError('X', 'x', { status, problem: { type: `urn:ietf:params:acme:error:${type}` } });
    expect([e('alreadyReplaced', 409), e('malformed', 400), e('conflict', 409)].map(refusesReplaces)).toEqual([true, true, true]);
    expect([e('rateLimited', 429), e('badNonce', 400), e('accountDoesNotExist', 400), e('serverInternal', 500)].map(refusesReplaces)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(refusesReplaces(new Error('x'))).toBe(false);
  });
});
