import { X509Certificate, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsLab, type DnsLab } from './bind.js';
import { startStaticHttp, type StaticHttp } from './http-static.js';
import { startIssuingAcmeDouble, type IssuingAcmeDouble } from './issuing-acme-double.js';
import { randomLoopback } from './loopback.js';
import { labDir, mustRun } from './process.js';

// The double is driven with raw RFC 8555 requests signed here (ES256), so that it is tested apart from certsmith's client.
const PROFILES = {
  classic: { lifetimeHours: 2160 },
  tlsserver: { description: 'names only', lifetimeHours: 2160, emptySubject: true },
  shortlived: { lifetimeHours: 160, emptySubject: true },
};

let double: IssuingAcmeDouble;
let web: StaticHttp;
let dns: DnsLab;
let agent: Agent;
let tmp: Awaited<ReturnType<typeof labDir>>;

beforeAll(async () => {
  tmp = await labDir('issuing-acme-double-test');
  [web, dns] = await Promise.all([startStaticHttp({ address: randomLoopback() }), startDnsLab()]);
  double = await startIssuingAcmeDouble({ profiles: PROFILES, defaultProfile: 'classic', validation: { http01: { address: web.address, port: web.port } } });
  agent = new Agent({ connect: { ca: double.tlsCaPem } });
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await double?.stop();
  await web?.stop();
  await dns?.stop();
  await tmp?.cleanup();
});

/** A minimal ACME client: one ES256 account key, nonces from each answer. */
class RawClient {
  private readonly key: KeyObject;
  readonly jwk: Record<string, string>;
  private nonce = '';
  kid = '';
  dir: Record<string, string> = {};

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.key = pair.privateKey;
    const { crv, kty, x, y } = pair.publicKey.export({ format: 'jwk' }) as Record<string, string>;
    this.jwk = { crv: crv!, kty: kty!, x: x!, y: y! };
  }

  thumbprint(): string {
    return createHash('sha256').update(JSON.stringify(this.jwk)).digest('base64url');
  }

  async start(): Promise<void> {
    this.dir = (await (await request(double.directoryUrl, { dispatcher: agent })).body.json()) as Record<string, string>;
    const head = await request(this.dir.newNonce!, { method: 'HEAD', dispatcher: agent });
    await head.body.dump();
    this.nonce = String(head.headers['replay-nonce']);
    const acct = await this.post(this.dir.newAccount!, { termsOfServiceAgreed: true }, true);
    expect(acct.status).toBe(201);
    this.kid = acct.location;
  }

  async post(
    url: string,
    payload: unknown,
    withJwk = false,
  ): Promise<{ status: number; json: Record<string, unknown>; text: string; location: string; type: string }> {
    const header = { alg: 'ES256', url, nonce: this.nonce, ...(withJwk ? { jwk: this.jwk } : { kid: this.kid }) };
    const encoded = [header, payload].map((part) => (part === undefined ? '' : Buffer.from(JSON.stringify(part)).toString('base64url')));
    const signature = sign('sha256', Buffer.from(encoded.join('.')), { key: this.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/jose+json' },
      body: JSON.stringify({ protected: encoded[0], payload: encoded[1], signature }),
    });
    this.nonce = String(res.headers['replay-nonce']);
    const text = await res.body.text();
    const type = String(res.headers['content-type']);
    return {
      status: res.statusCode,
      text,
      json: type.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : {},
      location: String(res.headers.location),
      type,
    };
  }

  /** newOrder → http-01 published on the static web server → finalize → the chain. */
  async order(names: string[], profile?: string): Promise<{ order: Record<string, unknown>; chain: string }> {
    const created = await this.post(this.dir.newOrder!, { identifiers: names.map((value) => ({ type: 'dns', value })), ...(profile ? { profile } : {}) });
    expect(created.status).toBe(201);
    for (const url of created.json.authorizations as string[]) {
      const authz = (await this.post(url, undefined)).json as { challenges: { url: string; token: string }[] };
      const challenge = authz.challenges[0]!;
      web.put(`/.well-known/acme-challenge/${challenge.token}`, `${challenge.token}.${this.thumbprint()}`);
      await this.post(challenge.url, {});
    }
    let order = created.json;
    for (let i = 0; i < 50 && order.status === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      order = (await this.post(created.location, undefined)).json;
    }
    expect(order.status).toBe('ready');
    const csr = await csrDer(names);
    order = (await this.post(order.finalize as string, { csr: csr.toString('base64url') })).json;
    expect(order.status).toBe('valid');
    const cert = await this.post(order.certificate as string, undefined);
    expect(cert.type).toBe('application/pem-certificate-chain');
    return { order, chain: cert.text };
  }
}

let csrs = 0;
async function csrDer(names: string[]): Promise<Buffer> {
  const file = join(tmp.path, `csr-${++csrs}.der`);
  await mustRun('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(tmp.path, `key-${csrs}.pem`),
    '-subj',
    `/CN=${names[0]}`,
    '-addext',
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    '-outform',
    'DER',
    '-out',
    file,
  ]);
  return readFile(file);
}

async function verifyChain(chain: string): Promise<string> {
  const file = join(tmp.path, 'chain.pem');
  await writeFile(file, chain);
  const [leaf, ...rest] = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  await writeFile(join(tmp.path, 'leaf.pem'), leaf!);
  await writeFile(join(tmp.path, 'untrusted.pem'), rest.join(''));
  return mustRun('openssl', [
    'verify',
    '-CAfile',
    double.rootFile,
    '-untrusted',
    join(tmp.path, 'untrusted.pem'),
    '-purpose',
    'sslserver',
    join(tmp.path, 'leaf.pem'),
  ]);
}

/** RFC 9773's certificate id, worked out with openssl: base64url(AKI keyid) "." base64url(serial DER content). */
async function ariIdByOpenssl(pem: string): Promise<string> {
  const text = await mustRun('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier', '-serial'], { input: pem });
  const aki = /((?:[0-9A-F]{2}:){19}[0-9A-F]{2})/.exec(text)![1]!.replace(/:/g, '');
  let serial = /serial=([0-9A-F]+)/.exec(text)![1]!;
  if (serial.length % 2) serial = `0${serial}`;
  if (/^[89A-F]/.test(serial)) serial = `00${serial}`;
  return `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(serial, 'hex').toString('base64url')}`;
}

describe('the issuing ACME test double', () => {
  it('offers its profiles in the directory, with renewalInfo and no EAB', async () => {
    const dir = (await (await request(double.directoryUrl, { dispatcher: agent })).body.json()) as { meta: Record<string, unknown>; renewalInfo?: string };
    expect(dir.meta.profiles).toEqual({ classic: 'classic (2160 h)', tlsserver: 'names only', shortlived: 'shortlived (160 h)' });
    expect(dir.meta.externalAccountRequired).toBe(false);
    expect(dir.renewalInfo).toMatch(/\/renewal-info$/);
  });

  it('issues a shortlived certificate after checking http-01: empty subject, critical SAN, 160 h, chained to its root; ARI suggests the last third', async () => {
    const client = new RawClient();
    await client.start();
    const names = ['a.double.test', 'b.double.test'];
    const { order, chain } = await client.order(names, 'shortlived');
    expect(order.profile).toBe('shortlived');
    expect(await verifyChain(chain)).toContain('OK');
    const leaf = new X509Certificate(chain);
    // node's X509Certificate has no subject at all for an empty DN; openssl prints an empty one.
    expect(leaf.subject).toBeUndefined();
    expect((await mustRun('openssl', ['x509', '-noout', '-subject'], { input: chain })).trim()).toBe('subject=');
    expect(leaf.subjectAltName).toBe('DNS:a.double.test, DNS:b.double.test');
    expect(leaf.issuer).toBe(`CN=${double.issuerName}`);
    expect(new RegExp(double.issuerPattern).test(double.issuerName)).toBe(true);
    const text = await mustRun('openssl', ['x509', '-noout', '-text'], { input: chain });
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical/);
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    const life = new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime();
    expect(life).toBe(160 * 3_600_000);
    // Both http-01 files were fetched.
    expect(web.requests.filter((r) => r.path.startsWith('/.well-known/acme-challenge/'))).toHaveLength(2);

    const issued = double.issued().at(-1)!;
    expect(issued).toMatchObject({ names, profile: 'shortlived' });
    expect(issued.certId).toBe(await ariIdByOpenssl(chain));
    const ari = await request(`${double.directoryUrl.replace(/\/dir$/, '')}/renewal-info/${issued.certId}`, { dispatcher: agent });
    const window = ((await ari.body.json()) as { suggestedWindow: { start: string; end: string } }).suggestedWindow;
    const from = new Date(leaf.validFrom).getTime();
    expect(new Date(window.start).getTime()).toBeGreaterThan(from + life / 2);
    expect(new Date(window.end).getTime()).toBeLessThan(from + (3 * life) / 4);
    expect(new Date(window.start).getTime()).toBeLessThan(new Date(window.end).getTime());
  });

  it('gives an order that names no profile the default one (a CN subject), and refuses an unknown profile as invalidProfile', async () => {
    const client = new RawClient();
    await client.start();
    const before = double.orderCount();
    const { order, chain } = await client.order(['c.double.test']);
    expect(order.profile).toBe('classic');
    expect(new X509Certificate(chain).subject).toBe('CN=c.double.test');
    const refused = await client.post(client.dir.newOrder!, { identifiers: [{ type: 'dns', value: 'c.double.test' }], profile: 'forever' });
    expect(refused.status).toBe(400);
    expect(refused.json.type).toBe('urn:ietf:params:acme:error:invalidProfile');
    expect(refused.json.detail).toContain('classic, tlsserver, shortlived');
    expect(double.orderCount()).toBe(before + 1);
    expect(double.orders().at(-1)).toEqual({ identifiers: [{ type: 'dns', value: 'c.double.test' }], profile: 'forever' });
  });

  it('fails the authorization when the http-01 file is wrong, and answers a malformed renewal document when told to', async () => {
    const client = new RawClient();
    const created = await (async () => {
      await client.start();
      return client.post(client.dir.newOrder!, { identifiers: [{ type: 'dns', value: 'd.double.test' }] });
    })();
    const authzUrl = (created.json.authorizations as string[])[0]!;
    const authz = (await client.post(authzUrl, undefined)).json as { challenges: { url: string; token: string }[] };
    web.put(`/.well-known/acme-challenge/${authz.challenges[0]!.token}`, 'wrong');
    await client.post(authz.challenges[0]!.url, {});
    let status = 'pending';
    for (let i = 0; i < 50 && status === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await client.post(created.location, undefined)).json.status as string;
    }
    expect(status).toBe('invalid');
    const failed = (await client.post(authzUrl, undefined)).json as { status: string; challenges: { error: { type: string } }[] };
    expect(failed.status).toBe('invalid');
    expect(failed.challenges[0]!.error.type).toBe('urn:ietf:params:acme:error:unauthorized');

    double.behave({ ari: () => 'malformed', validation: 'none' });
    const { order } = await client.order(['e.double.test']);
    expect(order.profile).toBe('classic');
    const ari = await request(`${double.directoryUrl.replace(/\/dir$/, '')}/renewal-info/${double.issued().at(-1)!.certId}`, { dispatcher: agent });
    expect(((await ari.body.json()) as Record<string, unknown>).suggestedWindow).toBeUndefined();
  });

  it('offers dns-persist-01 with its issuer domain names and no token, and validates the standing record on the DNS server by CA and account', async () => {
    double.behave({ validation: { dnsPersist01: { issuerDomainNames: ['double-ca.test'], server: { address: dns.addresses.primary } } } });
    const client = new RawClient();
    await client.start();
    const other = 'https://other-ca.test/acct/1';
    await dns.updateExampleZone([
      `update add _validation-persist.p1.example.test. 60 TXT "other-ca.test; accounturi=${other}" `,
      `update add _validation-persist.p1.example.test. 60 TXT "DOUBLE-CA.test ; accounturi=${client.kid}"`,
      `update add _validation-persist.p2.example.test. 60 TXT "double-ca.test; accounturi=${other}"`,
      `update add _validation-persist.p3.example.test. 60 TXT "double-ca.test; accounturi=${client.kid}; persistUntil=1000"`,
      `update add _validation-persist.wild.example.test. 60 TXT "double-ca.test; accounturi=${client.kid}"`,
    ]);
    const attempt = async (name: string) => {
      const created = await client.post(client.dir.newOrder!, { identifiers: [{ type: 'dns', value: name }] });
      const authzUrl = (created.json.authorizations as string[])[0]!;
      const authz = (await client.post(authzUrl, undefined)).json as { challenges: Record<string, unknown>[] };
      expect(authz.challenges).toEqual([{ type: 'dns-persist-01', url: expect.any(String), status: 'pending', 'issuer-domain-names': ['double-ca.test'] }]);
      await client.post(authz.challenges[0]!.url as string, {});
      let order = created.json;
      for (let i = 0; i < 100 && order.status === 'pending'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        order = (await client.post(created.location, undefined)).json;
      }
      const after = (await client.post(authzUrl, undefined)).json as { challenges: { error?: { detail: string } }[] };
      return { status: order.status, detail: after.challenges[0]!.error?.detail };
    };
    expect(await attempt('p1.example.test')).toEqual({ status: 'ready', detail: undefined });
    expect(await attempt('p2.example.test')).toEqual({
      status: 'invalid',
      detail: `the record at _validation-persist.p2.example.test binds another account (${other}), not ${client.kid}`,
    });
    expect((await attempt('p3.example.test')).detail).toBe('the record at _validation-persist.p3.example.test is past its persistUntil');
    expect((await attempt('*.wild.example.test')).detail).toBe(
      'the record at _validation-persist.wild.example.test lacks policy=wildcard for *.wild.example.test',
    );
    expect((await attempt('p4.example.test')).detail).toBe('no TXT record at _validation-persist.p4.example.test');
  });

  it('with caChecks, refuses a standing record where CAA does not let the CA issue over dns-persist-01', async () => {
    double.behave({
      validation: { dnsPersist01: { issuerDomainNames: ['double-ca.test'], server: { address: dns.addresses.primary } } },
      // BIND's primary answers for example.test, all the CAA climb of a name below it asks.
      caChecks: { checks: ['caa'], resolver: dns.addresses.primary, caaIdentity: 'double-ca.test' },
    });
    const client = new RawClient();
    await client.start();
    await dns.updateExampleZone([
      ...['p5', 'p6'].map((label) => `update add _validation-persist.${label}.example.test. 60 TXT "double-ca.test; accounturi=${client.kid}"`),
      'update add p5.example.test. 60 CAA 0 issue "double-ca.test; validationmethods=http-01"',
      'update add p6.example.test. 60 CAA 0 issue "double-ca.test; validationmethods=dns-persist-01"',
    ]);
    const attempt = async (name: string) => {
      const created = await client.post(client.dir.newOrder!, { identifiers: [{ type: 'dns', value: name }] });
      const authzUrl = (created.json.authorizations as string[])[0]!;
      const authz = (await client.post(authzUrl, undefined)).json as { challenges: { url: string }[] };
      await client.post(authz.challenges[0]!.url, {});
      for (let i = 0; i < 100; i++) {
        const after = (await client.post(authzUrl, undefined)).json as { status: string; challenges: { error?: { detail: string } }[] };
        if (after.status !== 'pending') return { status: after.status, detail: after.challenges[0]!.error?.detail };
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`${name}: the authorization stayed pending`);
    };
    expect(await attempt('p5.example.test')).toEqual({
      status: 'invalid',
      detail:
        'CAA at p5.example.test (issue "double-ca.test; validationmethods=http-01") does not let double-ca.test issue for this account over dns-persist-01',
    });
    expect(await attempt('p6.example.test')).toEqual({ status: 'valid', detail: undefined });
    double.behave({ caChecks: undefined });
  });
});
