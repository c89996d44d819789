import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertsmithError, createBus, type Challenge, type DcvMethod, type IssueContext, type Published } from '@certsmith/core';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { randomLoopback } from '@certsmith/testlab';
import { AcmeClient } from './client.js';
import { AcmeIssuer } from './issuer.js';
import { AcmeError, parseRetryAfter, problemToError } from './problem.js';
import { AcmeTransport, parseLinks } from './transport.js';
import { ariCertId, renewalTime } from './ari.js';
import { eabRefusalOf } from './eab.js';
import { AccountKey } from './jws.js';
import { driveOrder, type OrderOutcome } from './order-flow.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/**
 * A CA that misbehaves on purpose, for what Pebble cannot do: not ACME at all, garbage, huge bodies, a challenge
 * stuck in processing, pre-validated authorizations, and the RFC 9773 ARI exchange. Plain HTTP on loopback.
 */
class FakeCa {
  private server: Server | undefined;
  readonly routes = new Map<string, Handler>();
  readonly hits: string[] = [];
  base = '';
  async start(): Promise<void> {
    const address = randomLoopback();
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.hits.push(`${req.method} ${req.url}`);
        res.setHeader('replay-nonce', `n${this.hits.length}`);
        const handler = this.routes.get(`${req.method} ${req.url}`) ?? this.routes.get(`* ${req.url}`);
        if (handler) handler(req, res, body);
        else
          res
            .writeHead(404, { 'content-type': 'application/problem+json' })
            .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:malformed', detail: `no route ${req.url}` }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, address, resolve));
    const port = (this.server.address() as { port: number }).port;
    this.base = `http://${address}:${port}`;
  }
  json(path: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.routes.set(`* ${path}`, (_req, res) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body)));
  }
  acmeBasics(): void {
    this.json('/dir', 200, {
      newNonce: `${this.base}/nonce`,
      newAccount: `${this.base}/acct`,
      newOrder: `${this.base}/order`,
      renewalInfo: `${this.base}/renewal-info`,
    });
    this.routes.set('HEAD /nonce', (_q, res) => res.writeHead(200).end());
    this.json('/acct', 201, { status: 'valid' }, { location: `${this.base}/acct/1` });
  }
  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

class RecordingDcv implements DcvMethod {
  readonly id = 'http-record';
  readonly published: Challenge[] = [];
  readonly cleaned: Challenge[] = [];
  readonly answers = ['http-file'] as const;
  async publish(c: Challenge): Promise<Published> {
    this.published.push(c);
    return { method: this.id, challenge: c, where: c.name, handle: null };
  }
  async check(p: Published) {
    return { name: p.challenge.name, ok: true };
  }
  async cleanup(p: Published): Promise<void> {
    this.cleaned.push(p.challenge);
  }
}

describe('ACME client against a misbehaving CA', () => {
  const ca = new FakeCa();
  let dir: string;
  beforeAll(async () => {
    await ca.start();
    dir = await mkdtemp(join(tmpdir(), 'certsmith-fakeca-'));
  });
  afterAll(async () => {
    await ca.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const client = () => new AcmeClient(`${ca.base}/dir`, new AcmeTransport({ timeoutMs: 5_000 }));

  it('a URL that is not an ACME directory is ACME_NOT_A_DIRECTORY', async () => {
    ca.json('/not-acme', 200, { hello: 'world' });
    const c = new AcmeClient(`${ca.base}/not-acme`, new AcmeTransport());
    const error = (await c.directory(AbortSignal.timeout(5_000)).catch((e: unknown) => e)) as AcmeError;
    expect(error.code).toBe('ACME_NOT_A_DIRECTORY');
    expect(error.message).toContain('/not-acme is not an ACME directory');
    ca.routes.set('* /html', (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>welcome</html>'));
    const html = (await new AcmeClient(`${ca.base}/html`, new AcmeTransport()).directory(AbortSignal.timeout(5_000)).catch((e: unknown) => e)) as AcmeError;
    expect(html.code).toBe('ACME_NOT_A_DIRECTORY');
  });

  it('garbage JSON is ACME_BAD_RESPONSE; a 10 MiB body is ACME_RESPONSE_TOO_LARGE without reading it all', async () => {
    ca.routes.set('* /dir', (_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"newNonce": "http://x", garbage'));
    const garbage = (await client()
      .directory(AbortSignal.timeout(5_000))
      .catch((e: unknown) => e)) as AcmeError;
    expect(garbage.code).toBe('ACME_BAD_RESPONSE');
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    ca.routes.set('* /dir', (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length to refuse early
      let sent = 0;
      const more = () => {
        while (sent < 10 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const big = (await client()
      .directory(AbortSignal.timeout(10_000))
      .catch((e: unknown) => e)) as AcmeError;
    expect(big.code).toBe('ACME_RESPONSE_TOO_LARGE');
    ca.routes.set('* /dir', (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) }).end());
    const declared = (await client()
      .directory(AbortSignal.timeout(10_000))
      .catch((e: unknown) => e)) as AcmeError;
    expect(declared.code).toBe('ACME_RESPONSE_TOO_LARGE');
  });

  it('skips pre-validated authorizations and, with a challenge stuck in processing, stops at the wait bound and leaves the order pending', async () => {
    ca.acmeBasics();
    const order = {
      status: 'pending',
      identifiers: [
        { type: 'dns', value: 'a.example.test' },
        { type: 'dns', value: 'b.example.test' },
      ],
      authorizations: [`${ca.base}/authz/a`, `${ca.base}/authz/b`],
      finalize: `${ca.base}/finalize`,
    };
    ca.json('/order', 201, order, { location: `${ca.base}/order/1` });
    ca.json('/order/1', 200, order);
    ca.json('/authz/a', 200, {
      status: 'valid',
      identifier: { type: 'dns', value: 'a.example.test' },
      challenges: [{ type: 'http-01', url: `${ca.base}/chall/a`, status: 'valid', token: 'ta' }],
    });
    ca.json('/authz/b', 200, {
      status: 'pending',
      identifier: { type: 'dns', value: 'b.example.test' },
      challenges: [{ type: 'http-01', url: `${ca.base}/chall/b`, status: 'pending', token: 'tb' }],
    });
    ca.json('/chall/b', 200, { type: 'http-01', url: `${ca.base}/chall/b`, status: 'processing', token: 'tb' });
    const dcv = new RecordingDcv();
    const bus = createBus();
    const validated: string[] = [];
    bus.on('validated', (e) => validated.push(`${e.name}:${e.reason ?? ''}`));
    const ctx: IssueContext = { bus, dcv: [dcv], clock: { now: () => new Date() }, signal: AbortSignal.timeout(20_000), stateDir: join(dir, 'state') };
    const issuer = new AcmeIssuer({
      id: 'sectigo',
      directoryUrl: `${ca.base}/dir`,
      issuerPatterns: [],
      accountKeyType: 'ES256',
      challengeTypes: ['http-01'],
      maxWaitMs: 1_500,
      pollStartMs: 100,
      pollMaxMs: 400,
      precheck: 'http',
    });
    const names = ['a.example.test', 'b.example.test'];
    const csr = await new WebCryptoCsrFactory().create(names, { type: 'ecdsa-p256' });
    const result = await issuer.issue({ target: { id: 'hostname', names, services: [], kind: 'hostname' }, names, csr }, ctx);
    expect(result.status).toBe('pending');
    if (result.status !== 'pending') return;
    expect(result.order.reference).toBe(`${ca.base}/order/1`);
    expect(result.order.detail).toContain('b.example.test');
    expect(validated).toEqual(['a.example.test:authorization already valid at the CA']);
    expect(dcv.published.map((c) => c.name)).toEqual(['b.example.test']);
    expect(dcv.cleaned).toEqual([]); // the CA may still fetch it
    const polls = ca.hits.filter((h) => h === 'POST /order/1').length;
    expect(polls).toBeGreaterThan(2); // polled fast first (the order, not each authorization)
    expect(polls).toBeLessThan(20); // then backed off, and stopped at the bound
    const leftovers = JSON.parse(await readFile(join(dir, 'state', 'challenges.json'), 'utf8')) as Record<string, Challenge[]>;
    expect(leftovers[`${ca.base}/order/1`]?.[0]?.name).toBe('b.example.test');
  });

  it('honours Retry-After while polling', async () => {
    ca.hits.length = 0;
    ca.json(
      '/order/1',
      200,
      {
        status: 'pending',
        identifiers: [
          { type: 'dns', value: 'a.example.test' },
          { type: 'dns', value: 'b.example.test' },
        ],
        authorizations: [`${ca.base}/authz/a`, `${ca.base}/authz/b`],
        finalize: `${ca.base}/finalize`,
      },
      { 'retry-after': '1' },
    );
    const c = client();
    await c.createAccount(await (await import('./jws.js')).AccountKey.generate(), {}, AbortSignal.timeout(5_000));
    const { driveOrder } = await import('./order-flow.js');
    const order = await c.getOrder(`${ca.base}/order/1`, AbortSignal.timeout(5_000));
    ca.hits.length = 0;
    const outcome = await driveOrder(
      order,
      new Uint8Array([1]),
      {
        client: c,
        accountKey: await (await import('./jws.js')).AccountKey.generate(),
        dcv: [new RecordingDcv()],
        target: { id: 'hostname', names: [], services: [], kind: 'hostname' },
        bus: createBus(),
        signal: AbortSignal.timeout(10_000),
      },
      { challengeTypes: ['http-01'], maxWaitMs: 2_500, pollStartMs: 50, pollMaxMs: 50 },
    );
    expect(outcome.status).toBe('pending');
    // With a 50 ms schedule it would poll ~50 times; Retry-After: 1 allows about three.
    expect(ca.hits.filter((h) => h === 'POST /order/1').length).toBeLessThanOrEqual(5);
  });

  /** driveOrder on one order of `names` whose authorizations are all pending (routes of its own set by `also`), answered through a RecordingDcv. */
  async function driveFresh(id: string, names: string[], also: () => void = () => undefined) {
    const c = client();
    await c.createAccount(await AccountKey.generate(), {}, AbortSignal.timeout(5_000));
    for (const name of names) {
      ca.json(`/authz/${id}-${name}`, 200, {
        status: 'pending',
        identifier: { type: 'dns', value: name },
        challenges: [{ type: 'http-01', url: `${ca.base}/chall/${id}-${name}`, status: 'pending', token: `t-${name}` }],
      });
      ca.json(`/chall/${id}-${name}`, 200, { type: 'http-01', url: `${ca.base}/chall/${id}-${name}`, status: 'processing', token: `t-${name}` });
    }
    also();
    const order = {
      url: `${ca.base}/order/${id}`,
      status: 'pending' as const,
      identifiers: names.map((value) => ({ type: 'dns', value })),
      authorizations: names.map((n) => `${ca.base}/authz/${id}-${n}`),
      finalize: `${ca.base}/finalize/${id}`,
    };
    const dcv = new RecordingDcv();
    const bus = createBus();
    const validated: string[] = [];
    bus.on('validated', (e) => validated.push(`${e.name}:${e.ok ? 'ok' : `failed: ${e.reason}`}`));
    ca.hits.length = 0;
    const outcome = await driveOrder(
      order,
      new Uint8Array([1]),
      {
        client: c,
        accountKey: await AccountKey.generate(),
        dcv: [dcv],
        target: { id: 'site', names, services: [], kind: 'site' },
        bus,
        signal: AbortSignal.timeout(10_000),
      },
      { challengeTypes: ['http-01'], maxWaitMs: 5_000, pollStartMs: 20, pollMaxMs: 40 },
    ).catch((e: unknown) => e as AcmeError);
    return { outcome, dcv, validated, hits: (path: string) => ca.hits.filter((h) => h === `POST ${path}`).length };
  }

  it('waits on the order, not on each authorization: one request per poll whatever the number of names', async () => {
    ca.acmeBasics();
    const names = ['a.poll.test', 'www.poll.test', 'mail.poll.test', 'shop.poll.test'];
    const pem = execFileSync(
      'sh',
      ['-c', 'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=poll.test -days 5 2>/dev/null'],
      { encoding: 'utf8' },
    );
    let polls = 0;
    const body = (status: string, extra: object = {}) =>
      JSON.stringify({
        status,
        identifiers: names.map((value) => ({ type: 'dns', value })),
        authorizations: names.map((n) => `${ca.base}/authz/p-${n}`),
        finalize: `${ca.base}/finalize/p`,
        ...extra,
      });
    // Pending for three polls, then ready; valid once finalized.
    let finalized = false;
    const asked: number[] = [];
    ca.routes.set('* /order/p', (_q, res) => {
      asked.push(Date.now());
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(finalized ? body('valid', { certificate: `${ca.base}/cert/p` }) : body(++polls > 3 ? 'ready' : 'pending'));
    });
    let finalizedAt = 0;
    ca.routes.set('* /finalize/p', (_q, res) => {
      finalized = true;
      finalizedAt = Date.now();
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '1' }).end(body('processing'));
    });
    ca.routes.set('* /cert/p', (_q, res) => res.writeHead(200, { 'content-type': 'application/pem-certificate-chain' }).end(pem));
    let answeredAt = 0;
    const { outcome, dcv, validated, hits } = await driveFresh('p', names, () =>
      names.forEach((name) => {
        ca.routes.set(`* /chall/p-${name}`, (_q, res) => {
          answeredAt = Date.now();
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ type: 'http-01', url: `${ca.base}/chall/p-${name}`, status: 'processing', token: `t-${name}` }));
        });
      }),
    );
    expect((outcome as OrderOutcome).status).toBe('issued');
    expect(validated).toEqual(names.map((n) => `${n}:ok`));
    expect(dcv.cleaned.map((c) => c.name).sort()).toEqual([...names].sort());
    for (const name of names) expect(hits(`/authz/p-${name}`)).toBe(1); // read once for its challenge, never polled
    expect(hits('/order/p')).toBe(5); // four polls until ready, one after finalizing
    // Just after the challenges were answered the CA is not asked at once (pollStartMs: 20), nor before the
    // Retry-After its answer to finalize gave.
    expect(asked[0]! - answeredAt).toBeGreaterThanOrEqual(18);
    expect(asked[4]! - finalizedAt).toBeGreaterThanOrEqual(900);
  });

  it('an order turned invalid reads its authorizations once to name the failed one and its problem; nothing stays published', async () => {
    ca.acmeBasics();
    const names = ['a.bad.test', 'www.bad.test'];
    let answered = 0;
    ca.routes.set('* /order/i', (_q, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: answered >= 2 ? 'invalid' : 'pending',
          identifiers: names.map((value) => ({ type: 'dns', value })),
          authorizations: names.map((n) => `${ca.base}/authz/i-${n}`),
          finalize: `${ca.base}/finalize/i`,
        }),
      ),
    );
    // Once both challenges are answered, www's authorization is invalid and a's valid.
    const {
      outcome: error,
      dcv,
      validated,
      hits,
    } = await driveFresh('i', names, () =>
      names.forEach((name) => {
        ca.routes.set(`* /chall/i-${name}`, (_q, res) => {
          answered++;
          const status = name === 'www.bad.test' ? 'invalid' : 'valid';
          const error = name === 'www.bad.test' ? { type: 'urn:ietf:params:acme:error:connection', detail: '127.0.0.9: Connection refused' } : undefined;
          ca.json(`/authz/i-${name}`, 200, {
            status,
            identifier: { type: 'dns', value: name },
            challenges: [{ type: 'http-01', url: `${ca.base}/chall/i-${name}`, status, token: `t-${name}`, error }],
          });
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ type: 'http-01', url: `${ca.base}/chall/i-${name}`, status: 'processing', token: `t-${name}` }));
        });
      }),
    );
    expect(error).toBeInstanceOf(AcmeError);
    expect((error as AcmeError).code).toBe('ACME_CONNECTION');
    expect((error as AcmeError).message).toBe('the CA did not validate www.bad.test (authorization invalid, http-01): 127.0.0.9: Connection refused');
    expect(validated).toContain('www.bad.test:failed: 127.0.0.9: Connection refused');
    expect(dcv.cleaned.map((c) => c.name).sort()).toEqual([...names].sort());
    for (const name of names) expect(hits(`/authz/i-${name}`)).toBe(2); // its challenge, then once to see why
  });

  it("a problem document becomes a typed error with the CA's detail; rateLimited keeps its retry time", async () => {
    ca.acmeBasics();
    ca.json(
      '/order',
      429,
      { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates for example.test' },
      { 'content-type': 'application/problem+json', 'retry-after': '3600' },
    );
    const c = client();
    await c.createAccount(await (await import('./jws.js')).AccountKey.generate(), {}, AbortSignal.timeout(5_000));
    const error = (await c.newOrder(['x.example.test'], AbortSignal.timeout(5_000)).catch((e: unknown) => e)) as AcmeError;
    expect(error.code).toBe('ACME_RATE_LIMITED');
    expect(error.message).toContain('too many certificates for example.test');
    expect(error.retryAfter!.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    const codes = ['rejectedIdentifier', 'caa', 'dns', 'connection', 'unauthorized', 'badNonce', 'somethingNew'].map(
      (t) => problemToError({ type: `urn:ietf:params:acme:error:${t}`, detail: 'd' }, { status: 400, url: 'u' }).code,
    );
    expect(codes).toEqual(['ACME_REJECTED_IDENTIFIER', 'ACME_CAA', 'ACME_DNS', 'ACME_CONNECTION', 'ACME_UNAUTHORIZED', 'ACME_BAD_NONCE', 'ACME_PROBLEM']);
    const compound = problemToError(
      {
        type: 'urn:ietf:params:acme:error:compound',
        detail: 'several',
        subproblems: [{ identifier: { type: 'dns', value: 'a.test' }, detail: 'CAA forbids' }],
      },
      { status: 403, url: 'u' },
    );
    expect(compound.message).toContain('a.test: CAA forbids');
  });

  it('reads Retry-After in seconds and as a date; Link headers by relation', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)?.toISOString()).toBe('2026-01-01T00:02:00.000Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 01:00:00 GMT', now)?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseLinks(['<https://ca/cert/1/1>;rel="alternate"', '<https://ca/dir>;rel="index", <https://ca/cert/1/2>; rel="alternate"'])).toEqual({
      alternate: ['https://ca/cert/1/1', 'https://ca/cert/1/2'],
      index: ['https://ca/dir'],
    });
  });

  it('ARI: the RFC 9773 example exchange (recorded, Pebble 2.4 has none) gives the window and a renewal time inside it', async () => {
    const recorded = JSON.parse(await readFile(new URL('./fixtures/ari-rfc9773-exchange.json', import.meta.url), 'utf8')) as {
      certificate: { authorityKeyIdentifier: string; serial: string };
      request: { path: string };
      response: { status: number; headers: Record<string, string>; body: string };
    };
    const hex = (s: string) => Buffer.from(s.replace(/:/g, ''), 'hex');
    const certId = ariCertId(hex(recorded.certificate.authorityKeyIdentifier), hex(recorded.certificate.serial));
    expect(`/renewal-info/${certId}`).toBe(recorded.request.path);
    ca.acmeBasics();
    ca.routes.set(`GET ${recorded.request.path}`, (_q, res) => res.writeHead(recorded.response.status, recorded.response.headers).end(recorded.response.body));
    const info = await client().renewalInfo(certId, AbortSignal.timeout(5_000));
    expect(info?.suggestedWindow.start.toISOString()).toBe('2025-01-02T04:00:00.000Z');
    expect(info?.suggestedWindow.end.toISOString()).toBe('2025-01-03T04:00:00.000Z');
    expect(info?.explanationURL).toBe('https://acme.example.com/docs/ari');
    expect(info!.retryAfter!.getTime() - Date.now()).toBeGreaterThan(21_000_000);
    const when = renewalTime(info!.suggestedWindow, new Date('2025-01-01T00:00:00Z'), () => 0.5);
    expect(when.toISOString()).toBe('2025-01-02T16:00:00.000Z');
    expect(renewalTime(info!.suggestedWindow, new Date('2025-02-01T00:00:00Z')).toISOString()).toBe('2025-02-01T00:00:00.000Z');
  });
});

describe('the ACME account and its EAB key against a CA that refuses them (what Pebble cannot answer)', () => {
  const ca = new FakeCa();
  let dir: string;
  const hmacKey = '-PLANTED-hmac-key-never-printed-0123456789ab';
  beforeAll(async () => {
    await ca.start();
    dir = await mkdtemp(join(tmpdir(), 'certsmith-eab-'));
  });
  afterAll(async () => {
    await ca.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const problem = (path: string, status: number, type: string, detail: string) =>
    ca.routes.set(`* ${path}`, (_q, res) =>
      res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail, status })),
    );
  const issuer = (extra: Partial<ConstructorParameters<typeof AcmeIssuer>[0]> = {}) =>
    new AcmeIssuer({
      id: 'sectigo',
      directoryUrl: `${ca.base}/dir`,
      eab: { kid: 'kid-7', hmacKey, keyFile: '/etc/certsmith/sectigo-eab.key' },
      issuerPatterns: [],
      accountKeyType: 'ES256',
      challengeTypes: ['http-01'],
      maxWaitMs: 1_000,
      precheck: 'http',
      ...extra,
    });
  const ctx = (state: string): IssueContext => ({
    bus: createBus(),
    dcv: [new RecordingDcv()],
    clock: { now: () => new Date('2026-11-25T04:00:00Z') },
    signal: AbortSignal.timeout(10_000),
    stateDir: join(dir, state),
  });
  const names = ['a.example.test'];
  const request = async () => ({
    target: { id: 'hostname', names, services: [], kind: 'hostname' as const },
    names,
    csr: await new WebCryptoCsrFactory().create(names, { type: 'ecdsa-p256' }),
  });
  const newAccountCalls = () => ca.hits.filter((h) => h === 'POST /acct').length;

  it('sorts the wordings of CAs: spent, unknown, or another refusal', () => {
    const cases: [string, string, string][] = [
      ['unauthorized', "external account binding key with id 'k1' was already bound to account 'a1' on 2026-01-01", 'spent'], // step-ca
      ['unauthorized', 'The EAB credentials have already been used', 'spent'],
      ['malformed', 'eab key is no longer valid', 'spent'],
      ['unauthorized', "the field 'kid' references a key that is not known to the ACME server", 'unknown'], // Pebble
      ['unauthorized', "the field 'kid' references an unknown key", 'unknown'], // step-ca
      ['unauthorized', 'external account binding JWS verification error: square/go-jose: error in cryptographic primitive', 'rejected'], // Pebble, wrong HMAC
      ['serverInternal', 'key already used', 'rejected'],
    ];
    expect(cases.map(([type, detail]) => eabRefusalOf(type, detail))).toEqual(cases.map((c) => c[2]));
  });

  it('a spent EAB key is EAB_KEY_SPENT with what to do, before any order; later targets get the same reason and the CA is asked once', async () => {
    ca.acmeBasics();
    ca.hits.length = 0;
    problem('/acct', 403, 'unauthorized', "external account binding key with id 'kid-7' was already bound to account 'x' on 2026-11-01");
    const sectigo = issuer();
    const first = (await sectigo.issue(await request(), ctx('spent')).catch((e: unknown) => e)) as AcmeError;
    expect(first.code).toBe('EAB_KEY_SPENT');
    expect(first.message).toBe(
      `the CA at ${new URL(ca.base).host} says the EAB key id "kid-7" has already been used (external account binding key with id 'kid-7' was already bound to account 'x' on 2026-11-01): an EAB key registers one account; ask the CA at ${new URL(ca.base).host} for a new EAB key, then put its key id in the issuer's eab.kid and its HMAC key in /etc/certsmith/sectigo-eab.key (mode 0600)`,
    );
    const second = (await sectigo.issue(await request(), ctx('spent')).catch((e: unknown) => e)) as AcmeError;
    expect(second).toBe(first);
    expect(newAccountCalls()).toBe(1);
    expect(ca.hits.filter((h) => h.startsWith('POST /order'))).toEqual([]);
    // The key is kept (a retry next run finds it by key) and nothing in the state names the HMAC key.
    const stored = await readFile(join(dir, 'spent', 'account.json'), 'utf8');
    expect(JSON.parse(stored)).toMatchObject({ url: null, algorithm: 'ES256' });
    expect(stored + first.message).not.toContain(hmacKey);
  });

  it('an unknown key id is EAB_KEY_UNKNOWN; a wrong HMAC key stays EAB_REJECTED', async () => {
    problem('/acct', 403, 'unauthorized', "the field 'kid' references an unknown key");
    const unknown = (await issuer()
      .issue(await request(), ctx('unknown'))
      .catch((e: unknown) => e)) as AcmeError;
    expect(unknown.code).toBe('EAB_KEY_UNKNOWN');
    expect(unknown.message).toContain(
      `does not know the EAB key id "kid-7" (the field 'kid' references an unknown key): check the issuer's eab.kid, or ask the CA at ${new URL(ca.base).host} for a new EAB key`,
    );
    problem('/acct', 403, 'unauthorized', 'external account binding JWS verification error');
    const wrong = (await issuer()
      .issue(await request(), ctx('wrong'))
      .catch((e: unknown) => e)) as AcmeError;
    expect(wrong.code).toBe('EAB_REJECTED');
    expect(wrong.message).toContain('/etc/certsmith/sectigo-eab.key');
    expect(unknown.message + wrong.message).not.toContain(hmacKey);
  });

  it('records the EAB key id and time of a new account; when the CA forgets it, the key is not sent again (ACME_ACCOUNT_GONE) until a new key id is configured', async () => {
    ca.acmeBasics();
    problem('/order', 400, 'accountDoesNotExist', `Account ${ca.base}/acct/1 not found.`);
    ca.hits.length = 0;
    const file = join(dir, 'gone', 'account.json');
    const gone = (await issuer()
      .issue(await request(), ctx('gone'))
      .catch((e: unknown) => e)) as CertsmithError;
    const stored = JSON.parse(await readFile(file, 'utf8')) as { url: string; eab: unknown };
    expect(stored.url).toBe(`${ca.base}/acct/1`);
    expect(stored.eab).toEqual({ kid: 'kid-7', boundAt: '2026-11-25T04:00:00.000Z' });
    expect(gone.code).toBe('ACME_ACCOUNT_GONE');
    expect(gone.message).toBe(
      `the CA no longer knows the account ${ca.base}/acct/1 in ${file} (Account ${ca.base}/acct/1 not found.); it was registered with EAB key id "kid-7" on 2026-11-25T04:00:00.000Z, which is not sent again: ask the CA at ${new URL(ca.base).host} for a new EAB key and put its key id in the issuer's eab.kid and its HMAC key in /etc/certsmith/sectigo-eab.key: the next run registers a new account with it (the old account file is kept beside it)`,
    );
    expect(newAccountCalls()).toBe(1); // the first registration only

    // A new key id in the config: the old file is kept aside, a new account is registered with the new key.
    ca.json('/acct', 201, { status: 'valid' }, { location: `${ca.base}/acct/2` });
    let orders = 0;
    ca.routes.set('* /order', (_q, res) => {
      if (orders++ === 0)
        res
          .writeHead(400, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:accountDoesNotExist', detail: 'gone' }));
      else
        res
          .writeHead(201, { 'content-type': 'application/json', location: `${ca.base}/order/9` })
          .end(JSON.stringify({ status: 'valid', identifiers: [], authorizations: [], finalize: `${ca.base}/fin`, certificate: `${ca.base}/cert` }));
    });
    ca.routes.set('* /cert', (_q, res) =>
      res
        .writeHead(500, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'stop here' })),
    );
    const renewed = (await issuer({ eab: { kid: 'kid-8', hmacKey, keyFile: '/k' } })
      .issue(await request(), ctx('gone'))
      .catch((e: unknown) => e)) as CertsmithError;
    expect(renewed.code).toBe('ACME_SERVER_INTERNAL'); // got past the account and the order
    const now = JSON.parse(await readFile(file, 'utf8')) as { url: string; eab: { kid: string }; keyPem: string };
    expect(now.url).toBe(`${ca.base}/acct/2`);
    expect(now.eab.kid).toBe('kid-8');
    const aside = (await readdir(join(dir, 'gone'))).filter((f) => f.startsWith('account.json.gone-'));
    expect(aside).toEqual(['account.json.gone-20261125T040000Z']);
    expect(JSON.parse(await readFile(join(dir, 'gone', aside[0]!), 'utf8')).url).toBe(`${ca.base}/acct/1`);
    expect(newAccountCalls()).toBe(2);
  });

  it('an account registered without EAB is registered again with its key when the CA forgets it (a reset test CA)', async () => {
    ca.acmeBasics();
    ca.hits.length = 0;
    let orders = 0;
    ca.routes.set('* /order', (_q, res) => {
      if (orders++ === 0)
        res
          .writeHead(400, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:accountDoesNotExist', detail: 'gone' }));
      else
        res
          .writeHead(500, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'stop here' }));
    });
    const plain = (await issuer({ eab: undefined })
      .issue(await request(), ctx('plain'))
      .catch((e: unknown) => e)) as CertsmithError;
    expect(plain.code).toBe('ACME_SERVER_INTERNAL');
    expect(newAccountCalls()).toBe(2);
    expect(JSON.parse(await readFile(join(dir, 'plain', 'account.json'), 'utf8')).eab).toBeNull();
  });

  it('another directory URL keeps the old account beside the new one, never overwriting it', async () => {
    ca.acmeBasics();
    ca.hits.length = 0;
    ca.routes.set('* /order', (_q, res) =>
      res
        .writeHead(500, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'stop here' })),
    );
    const state = join(dir, 'moved');
    await mkdir(state, { recursive: true });
    const old = JSON.stringify({
      directoryUrl: 'https://staging.example.test/dir',
      url: 'https://staging.example.test/acct/5',
      algorithm: 'ES256',
      keyPem: await (await AccountKey.generate()).toPem(),
      eab: { kid: 'kid-old', boundAt: '2026-01-01T00:00:00.000Z' },
    });
    await writeFile(join(state, 'account.json'), old, { mode: 0o600 });
    const error = (await issuer()
      .issue(await request(), ctx('moved'))
      .catch((e: unknown) => e)) as CertsmithError;
    expect(error.code).toBe('ACME_SERVER_INTERNAL');
    expect(await readFile(join(state, 'account.json.other-directory-20261125T040000Z'), 'utf8')).toBe(old);
    expect(JSON.parse(await readFile(join(state, 'account.json'), 'utf8'))).toMatchObject({
      directoryUrl: `${ca.base}/dir`,
      url: `${ca.base}/acct/1`,
      eab: { kid: 'kid-7' },
    });
    expect(newAccountCalls()).toBe(1);
  });

  it('an account file edited into nonsense is ACCOUNT_FILE_INVALID naming it, is not overwritten, and the CA is not asked', async () => {
    ca.acmeBasics();
    ca.hits.length = 0;
    const cases = [
      '{"directoryUrl": "https://ca/dir", garbage',
      '[1, 2, 3]',
      'null',
      JSON.stringify({
        directoryUrl: `${ca.base}/dir`,
        url: null,
        algorithm: 'ES256',
        keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      }),
      'x'.repeat(100_000),
    ];
    const reasons: string[] = [];
    for (const [i, text] of cases.entries()) {
      const state = join(dir, `nonsense-${i}`);
      await mkdir(state, { recursive: true });
      await writeFile(join(state, 'account.json'), text, { mode: 0o600 });
      const error = (await issuer()
        .issue(await request(), ctx(`nonsense-${i}`))
        .catch((e: unknown) => e)) as CertsmithError;
      expect(error.code).toBe('ACCOUNT_FILE_INVALID');
      expect(error.message).toMatch(
        new RegExp(
          `^${join(state, 'account.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a certsmith account file \\(.+\\): move it aside to register a new account`,
        ),
      );
      reasons.push(error.message.split('(')[1]!.split(')')[0]!);
      expect(await readFile(join(state, 'account.json'), 'utf8')).toBe(text);
      expect(await readdir(state)).toEqual(['account.json']); // no lock left behind, nothing else written
    }
    expect(reasons).toEqual(['not JSON', 'not a JSON object', 'not a JSON object', 'keyPem is not an ES256 private key', 'larger than 64 KiB']);
    expect(ca.hits.filter((h) => h.startsWith('POST'))).toEqual([]);
  });

  it('waits for the account lock, and says so when another run holds it too long (ACCOUNT_LOCKED)', async () => {
    ca.acmeBasics();
    ca.hits.length = 0;
    const state = join(dir, 'locked');
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'account.lock'), `${process.pid}\n`); // a live process holds it
    const error = (await issuer({ accountLockWaitMs: 300 })
      .issue(await request(), ctx('locked'))
      .catch((e: unknown) => e)) as CertsmithError;
    expect(error.code).toBe('ACCOUNT_LOCKED');
    expect(error.message).toBe(
      `waited 0.3 s for ${join(state, 'account.lock')}, held by pid ${process.pid} while it sets up the ACME account: the next run tries again (remove the file only if no certsmith process is running)`,
    );
    expect(newAccountCalls()).toBe(0);
    // Released while a second run waits: it goes on and registers.
    const waiting = issuer({ accountLockWaitMs: 10_000 })
      .issue(await request(), ctx('locked'))
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(newAccountCalls()).toBe(0);
    await rm(join(state, 'account.lock'));
    await waiting;
    expect(newAccountCalls()).toBe(1);
    expect(JSON.parse(await readFile(join(state, 'account.json'), 'utf8')).url).toBe(`${ca.base}/acct/1`);
  });
});
