import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type Challenge, type DcvMethod, type IssueContext, type LifecycleEvents, type Published } from '@certsmith/core';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { randomLoopback, startPebble, type Pebble } from '@certsmith/testlab';
import { AcmeIssuer, type AcmeIssuerOptions } from './issuer.js';
import { AcmeClient } from './client.js';
import { AccountKey } from './jws.js';
import { AcmeTransport } from './transport.js';
import { AcmeError } from './problem.js';
import { ariCertIdOf } from './ari.js';

/** An http-01 responder that serves key authorizations itself on Pebble's httpPort (names all resolve to it). */
class InTestHttp01 implements DcvMethod {
  readonly id = 'http-test';
  readonly served = new Map<string, string>();
  readonly log: string[] = [];
  private server: Server | undefined;
  constructor(
    private readonly address: string,
    private readonly port: number,
  ) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const token = req.url?.split('/').pop() ?? '';
      this.log.push(`hit ${token}`);
      const body = this.served.get(token);
      res.writeHead(body ? 200 : 404).end(body ?? 'no');
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, this.address, resolve));
  }
  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
  readonly answers = ['http-file'] as const;
  async publish(c: Challenge): Promise<Published> {
    if (c.kind !== 'http-file') throw new Error('unsupported');
    const token = c.path.slice('/.well-known/acme-challenge/'.length);
    this.served.set(token, c.body);
    this.log.push(`publish ${token}`);
    return { method: this.id, challenge: c, where: `http://${c.name}${c.path}`, handle: token };
  }
  async check(p: Published) {
    return { name: p.challenge.name, ok: true };
  }
  async cleanup(p: Published): Promise<void> {
    this.served.delete(p.handle as string);
    this.log.push(`cleanup ${p.handle as string}`);
  }
}

describe('ACME client against Pebble (EAB required)', () => {
  let pebble: Pebble;
  let responder: InTestHttp01;
  let dir: string;
  const csrs = new WebCryptoCsrFactory();
  const events: { type: string; event: unknown }[] = [];
  let issuedPem = '';

  beforeAll(async () => {
    const address = randomLoopback();
    pebble = await startPebble({ address, httpPort: 5002 });
    responder = new InTestHttp01(address, 5002);
    await responder.start();
    dir = await mkdtemp(join(tmpdir(), 'certsmith-acme-'));
  });
  afterAll(async () => {
    await responder?.stop();
    await pebble?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const options = (extra: Partial<AcmeIssuerOptions> = {}): AcmeIssuerOptions => ({
    id: 'acme',
    directoryUrl: pebble.directoryUrl,
    caPem: pebble.tlsCaPem,
    eab: pebble.eab,
    issuerPatterns: [/Pebble/],
    accountKeyType: 'ES256',
    challengeTypes: ['http-01'],
    maxWaitMs: 30_000,
    precheck: 'http',
    ...extra,
  });
  const context = (stateDir: string): IssueContext => {
    const bus = createBus();
    bus.on('*', (type, event) => events.push({ type: String(type), event }));
    return { bus, dcv: [responder], clock: { now: () => new Date() }, signal: AbortSignal.timeout(60_000), stateDir: join(dir, stateDir) };
  };
  const target = (names: string[]) => ({ id: 'hostname', names, services: ['cpanel'], kind: 'hostname' as const });

  it('issues for several names with EAB: every challenge published before the CA checks any, chain verifies against /roots/0', async () => {
    const names = ['host.example.test', 'www.example.test', 'mail.example.test'];
    const csr = await csrs.create(names, { type: 'ecdsa-p256' });
    responder.log.length = 0;
    const result = await new AcmeIssuer(options()).issue({ target: target(names), names, csr }, context('es256'));
    expect(result.status).toBe('issued');
    if (result.status !== 'issued') return;
    issuedPem = result.certificatePem;
    const leaf = new X509Certificate(result.certificatePem);
    expect(leaf.subjectAltName).toBe(names.map((n) => `DNS:${n}`).join(', '));
    expect(leaf.publicKey.equals(new X509Certificate(result.certificatePem).publicKey)).toBe(true);
    const firstHit = responder.log.findIndex((l) => l.startsWith('hit'));
    expect(responder.log.slice(0, firstHit).filter((l) => l.startsWith('publish'))).toHaveLength(3);
    expect(responder.served.size).toBe(0); // cleaned up
    const root = (await pebble.management('/roots/0')).body;
    await writeFile(join(dir, 'root.pem'), root);
    await writeFile(join(dir, 'chain.pem'), result.chainPem.join(''));
    await writeFile(join(dir, 'leaf.pem'), result.certificatePem);
    const verify = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'chain.pem'), join(dir, 'leaf.pem')], {
      encoding: 'utf8',
    });
    expect(verify).toContain('leaf.pem: OK');
    const account = JSON.parse(await readFile(join(dir, 'es256', 'account.json'), 'utf8')) as { url: string; algorithm: string };
    expect(account.algorithm).toBe('ES256');
    expect(account.url).toMatch(/^https:/);
    expect(events.filter((e) => e.type === 'dcv-created')).toHaveLength(3);
  });

  it('reuses the stored account on the next order; RS256 account keys work too', async () => {
    const before = await readFile(join(dir, 'es256', 'account.json'), 'utf8');
    const names = ['again.example.test'];
    const again = await new AcmeIssuer(options()).issue(
      { target: target(names), names, csr: await csrs.create(names, { type: 'ecdsa-p256' }) },
      context('es256'),
    );
    expect(again.status).toBe('issued');
    expect(await readFile(join(dir, 'es256', 'account.json'), 'utf8')).toBe(before);
    const rsa = await new AcmeIssuer(options({ accountKeyType: 'RS256' })).issue(
      { target: target(names), names, csr: await csrs.create(names, { type: 'rsa-2048' }) },
      context('rs256'),
    );
    expect(rsa.status).toBe('issued');
    expect(JSON.parse(await readFile(join(dir, 'rs256', 'account.json'), 'utf8')).algorithm).toBe('RS256');
  });

  it("a wrong EAB key is EAB_REJECTED with the CA's words; none at all is EAB_REQUIRED", async () => {
    const names = ['eab.example.test'];
    const request = { target: target(names), names, csr: await csrs.create(names, { type: 'ecdsa-p256' }) };
    const wrong = new AcmeIssuer(options({ eab: { kid: pebble.eab.kid, hmacKey: Buffer.alloc(32, 7).toString('base64url') } }));
    const error = await wrong.issue(request, context('wrong-eab')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeError);
    expect((error as AcmeError).code).toBe('EAB_REJECTED');
    expect((error as AcmeError).message).toContain(pebble.eab.kid);
    expect((error as AcmeError).message).not.toContain(pebble.eab.hmacKey);
    const none = await new AcmeIssuer(options({ eab: undefined })).issue(request, context('no-eab')).catch((e: unknown) => e);
    expect((none as AcmeError).code).toBe('EAB_REQUIRED');
    // Pebble's words for a key id it does not know (wfe.go verifyEAB: unauthorized, 403).
    const unknown = await new AcmeIssuer(options({ eab: { kid: 'kid-nobody', hmacKey: pebble.eab.hmacKey } }))
      .issue(request, context('unknown-eab'))
      .catch((e: unknown) => e);
    expect((unknown as AcmeError).code).toBe('EAB_KEY_UNKNOWN');
    expect((unknown as AcmeError).message).toContain(
      `does not know the EAB key id "kid-nobody" (the field 'kid' references a key that is not known to the ACME server)`,
    );
  });

  it('records the EAB key id an account was registered with; Pebble 2.4 lets one EAB key register any number of accounts', async () => {
    const stored = JSON.parse(await readFile(join(dir, 'es256', 'account.json'), 'utf8')) as { eab: { kid: string; boundAt: string } };
    expect(stored.eab.kid).toBe(pebble.eab.kid);
    expect(Number.isNaN(Date.parse(stored.eab.boundAt))).toBe(false);
    expect(JSON.stringify(stored)).not.toContain(pebble.eab.hmacKey);
    // Why EAB_KEY_SPENT is tested against the fake CA: Pebble never refuses a key for having been used.
    const accounts = pebble.accountCount();
    const client = new AcmeClient(pebble.directoryUrl, new AcmeTransport({ caPem: pebble.tlsCaPem }));
    await client.createAccount(await AccountKey.generate(), { eab: pebble.eab }, AbortSignal.timeout(10_000));
    expect(pebble.accountCount() - accounts).toBe(1);
    await client.transport.close();
  });

  it('leaves an order pending when the wait bound is reached, and resumes it without a second order', async () => {
    const names = ['slow.example.test'];
    const csr = await csrs.create(names, { type: 'ecdsa-p256' });
    const ordersBefore = pebble.orderCount();
    const issuer = new AcmeIssuer(options({ maxWaitMs: 0 }));
    const first = await issuer.issue({ target: target(names), names, csr }, context('resume'));
    expect(first.status).toBe('pending');
    if (first.status !== 'pending') return;
    expect(first.order.reference).toMatch(/\/my-order\//);
    // The challenge stays published while the CA may still be checking it.
    const leftovers = JSON.parse(await readFile(join(dir, 'resume', 'challenges.json'), 'utf8')) as Record<string, unknown[]>;
    expect(leftovers[first.order.reference]).toHaveLength(1);
    const second = await new AcmeIssuer(options()).resume(first.order, csr, context('resume'));
    expect(second.status).toBe('issued');
    expect(pebble.orderCount() - ordersBefore).toBe(1);
    expect(JSON.parse(await readFile(join(dir, 'resume', 'challenges.json'), 'utf8'))).toEqual({});
    expect(responder.served.size).toBe(0);
  });

  it('revokes a certificate; revoking it again is ACME_ALREADY_REVOKED', async () => {
    const names = ['revoke.example.test'];
    const csr = await csrs.create(names, { type: 'ecdsa-p256' });
    const result = await new AcmeIssuer(options()).issue({ target: target(names), names, csr }, context('revoke'));
    if (result.status !== 'issued') throw new Error('not issued');
    const stored = JSON.parse(await readFile(join(dir, 'revoke', 'account.json'), 'utf8')) as { url: string; keyPem: string };
    const client = new AcmeClient(pebble.directoryUrl, new AcmeTransport({ caPem: pebble.tlsCaPem }));
    client.useAccount(await AccountKey.fromPem(stored.keyPem, 'ES256'), stored.url);
    const der = new Uint8Array(new X509Certificate(result.certificatePem).raw);
    await client.revoke(der, AbortSignal.timeout(10_000), 4);
    const again = await client.revoke(der, AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect((again as AcmeError).code).toBe('ACME_ALREADY_REVOKED');
    await client.transport.close();
  });

  it('says the directory offers no ARI (Pebble 2.4), and computes the ARI identifier of its certificate', async () => {
    const client = new AcmeClient(pebble.directoryUrl, new AcmeTransport({ caPem: pebble.tlsCaPem }));
    expect(await client.renewalInfo('x.y', AbortSignal.timeout(5_000))).toBeNull();
    await client.transport.close();
    expect(await new AcmeIssuer(options()).renewalWindow(issuedPem, AbortSignal.timeout(5_000))).toBeNull();
    const [aki, serial] = ariCertIdOf(issuedPem).split('.');
    const leaf = new X509Certificate(issuedPem);
    expect(Buffer.from(serial!, 'base64url').toString('hex').replace(/^0+/, '').toUpperCase()).toBe(leaf.serialNumber.replace(/^0+/, '').toUpperCase());
    expect(Buffer.from(aki!, 'base64url')).toHaveLength(20);
  });

  it('refuses Pebble when its TLS certificate is not trusted (no CA file): CA_UNREACHABLE, never insecure', async () => {
    const client = new AcmeClient(pebble.directoryUrl, new AcmeTransport());
    const error = await client.directory(AbortSignal.timeout(5_000)).catch((e: unknown) => e);
    expect((error as AcmeError).code).toBe('CA_UNREACHABLE');
    await client.transport.close();
  });
});

describe('ACME client against Pebble with faults injected', () => {
  let pebble: Pebble;
  let responder: InTestHttp01;
  let dir: string;
  beforeAll(async () => {
    const address = randomLoopback();
    pebble = await startPebble({ address, env: { PEBBLE_WFE_NONCEREJECT: '50', PEBBLE_AUTHZREUSE: '100' } });
    responder = new InTestHttp01(address, 5002);
    await responder.start();
    dir = await mkdtemp(join(tmpdir(), 'certsmith-acme-'));
  });
  afterAll(async () => {
    await responder?.stop();
    await pebble?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('retries on badNonce (half the nonces rejected) and skips the challenge of an authorization already valid', async () => {
    const events: LifecycleEvents['validated'][] = [];
    const names = ['reuse.example.test', 'www.reuse.example.test'];
    const csrs = new WebCryptoCsrFactory();
    const issuer = new AcmeIssuer({
      id: 'acme',
      directoryUrl: pebble.directoryUrl,
      caPem: pebble.tlsCaPem,
      eab: pebble.eab,
      issuerPatterns: [],
      accountKeyType: 'ES256',
      challengeTypes: ['http-01'],
      maxWaitMs: 30_000,
      precheck: 'http',
    });
    let done = 0;
    // Five orders at 50 % rejection: without retries nearly every one would fail.
    for (let i = 0; i < 5; i++) {
      const bus = createBus();
      bus.on('validated', (e) => events.push(e));
      const ctx: IssueContext = { bus, dcv: [responder], clock: { now: () => new Date() }, signal: AbortSignal.timeout(60_000), stateDir: join(dir, 'state') };
      const r = await issuer.issue(
        { target: { id: 'hostname', names, services: [], kind: 'hostname' }, names, csr: await csrs.create(names, { type: 'ecdsa-p256' }) },
        ctx,
      );
      if (r.status === 'issued') done++;
    }
    expect(done).toBe(5);
    const published = responder.log.filter((l) => l.startsWith('publish')).length;
    // With AUTHZREUSE=100 only the first order's two authorizations needed challenges; the later orders came
    // back ready (every authorization already valid) and went straight to finalization.
    expect(published).toBe(2);
    expect(events.filter((e) => e.method === 'http-test')).toHaveLength(2);
  });
});
