import { randomBytes, type JsonWebKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createCa } from './certs.js';
import { DoubleCa, readCsr } from './issuing-acme-double-ca.js';
import { caaAsCa, checkAsCa, type IssuingAcmeDoubleCaChecks } from './issuing-acme-double-ca-checks.js';
import { checkDnsPersist01, type DnsPersistCheck } from './issuing-acme-double-dns-persist.js';
import { checkHttp01 } from './issuing-acme-double-http01.js';
import { decodeJws, jwkThumbprint } from './issuing-acme-double-jws.js';
import { randomLoopback } from './loopback.js';
import { labDir } from './process.js';

/**
 * A TEST DOUBLE of an ACME CA that ISSUES (Debian's Pebble 2.4 has neither ACME profiles nor ARI): a small HTTPS
 * server on a loopback address speaking enough RFC 8555 for certsmith's client end to end, with the profiles
 * extension (the directory's `meta.profiles`, an order's `profile`) and ACME Renewal Information (RFC 9773).
 * Leaves chain to an intermediate under a root made in memory; JWS signatures are checked against the account key.
 * Everything lives in memory (a stop forgets accounts and orders).
 */
export interface IssuingAcmeDoubleProfile {
  description?: string;
  /** Validity of the certificates issued under this profile. */
  lifetimeHours: number;
  /** No subject DN at all; the names only in a critical SAN (Let's Encrypt's tlsserver and shortlived). */
  emptySubject?: boolean;
}

/** What the double's ARI answers for one of its certificates. */
export type IssuingAcmeDoubleAri = false | 'lifetime' | ((cert: IssuingAcmeDoubleCertificate) => { start: Date; end: Date } | 'malformed');

export interface IssuingAcmeDoubleOptions {
  /** The loopback address to listen on (default: a random one). */
  address?: string;
  /** Profiles offered in the directory's `meta.profiles` (default: none, and an order's `profile` is ignored). */
  profiles?: Record<string, IssuingAcmeDoubleProfile>;
  /** The profile of an order that names none (default: the first one offered). */
  defaultProfile?: string;
  /** Validity when no profile applies (default 2160 h, 90 days). */
  lifetimeHours?: number;
  /**
   * 'none' (default): authorizations start valid, as at a CA with pre-validated names. `http01`: the double offers
   * http-01 and fetches http://<name>/.well-known/acme-challenge/<token> from that address (the lab's nginx), with the
   * name as Host. `dnsPersist01`: it offers dns-persist-01 too (after http-01, when both are given), with
   * `issuer-domain-names`, and asks that DNS server for the standing record (see checkDnsPersist01).
   */
  validation?: 'none' | { http01?: { address: string; port?: number }; dnsPersist01?: DnsPersistCheck };
  /** A real CA's checks: CAA for every challenge; for http-01, every perspective instead of that address. */
  caChecks?: IssuingAcmeDoubleCaChecks;
  /**
   * `renewalInfo` (RFC 9773): 'lifetime' (default) suggests a short window around two thirds of the certificate's
   * life, as Let's Encrypt does; a function answers per certificate ('malformed': a document without a window);
   * false: no renewalInfo in the directory.
   */
  ari?: IssuingAcmeDoubleAri;
  /** The clock for notBefore (notBefore = now - 1 minute); default real time. For CLIs run with CERTSMITH_FAKE_NOW. */
  now?: () => Date;
  /**
   * Holds the answer to every request whose path matches (e.g. /^\/finalize\//) this long: a CA that is slow to answer.
   * `onHold` is called as each such request arrives (a test waits for it before it acts).
   */
  delay?: { path: RegExp; ms: number; onHold?: (path: string) => void };
  /**
   * `Retry-After: <seconds>` on the answer to a challenge and on every look at an order or authorization that is not
   * decided yet, as a CA says when to ask again (default: none).
   */
  retryAfterSeconds?: number;
  /** How long the double's validation of an answered challenge takes before its verdict (default 0). */
  validationDelayMs?: number;
}

export interface IssuingAcmeDoubleRequest {
  method: string;
  path: string;
  /** The decoded JWS payload of a POST (null for POST-as-GET or a GET). */
  payload: unknown;
  /** When the request arrived (the double's Date.now()). */
  at: number;
}

export interface IssuingAcmeDoubleCertificate {
  /** The leaf PEM. */
  pem: string;
  /** The leaf, the intermediate: what the certificate URL serves. */
  chainPem: string;
  names: string[];
  /** The profile it was issued under (undefined when the double offers none). */
  profile?: string;
  notBefore: Date;
  notAfter: Date;
  /** Its RFC 9773 certificate identifier. */
  certId: string;
}

export interface IssuingAcmeDouble {
  address: string;
  port: number;
  directoryUrl: string;
  /** The lab CA that signed the double's TLS certificate: the ACME client's caFile. */
  tlsCaFile: string;
  tlsCaPem: string;
  /** The root the issued chains lead to (for SSL_CERT_FILE). */
  rootPem: string;
  rootFile: string;
  /** The intermediate's CN: the issuer name of every leaf. */
  issuerName: string;
  /** A regex source matching issuerName, for an issuer's `issuerPatterns`. */
  issuerPattern: string;
  /** Every request, in order. */
  requests: IssuingAcmeDoubleRequest[];
  /** Payloads of the newOrder requests (refused ones too). */
  orders(): Record<string, unknown>[];
  /** How many orders were created (refused ones not counted). */
  orderCount(): number;
  /** The certificates issued so far, oldest first. */
  issued(): IssuingAcmeDoubleCertificate[];
  /** Changes options for the next requests (the CA and the address stay). */
  behave(options: Omit<IssuingAcmeDoubleOptions, 'address'>): void;
  stop(): Promise<void>;
}

type AuthzStatus = 'pending' | 'valid' | 'invalid' | 'deactivated';
interface Challenge {
  id: string;
  type: 'http-01' | 'dns-persist-01';
  token: string;
  status: 'pending' | 'processing' | 'valid' | 'invalid';
  error?: Problem;
  authz: Authz;
}
interface Authz {
  id: string;
  name: string;
  status: AuthzStatus;
  challenges: Challenge[];
  order: Order;
}
interface Order {
  id: string;
  account: Account;
  status: 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
  names: string[];
  authzs: Authz[];
  profile?: string;
  replaces?: string;
  certificate?: IssuingAcmeDoubleCertificate;
  error?: Problem;
  expires: Date;
}
interface Account {
  id: string;
  jwk: JsonWebKey;
  thumbprint: string;
}
interface Problem {
  type: string;
  detail: string;
  status: number;
}

const ERR = 'urn:ietf:params:acme:error:';
const LABEL = 'Issuing ACME Double';

class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail);
  }
}

const problem = (status: number, type: string, detail: string) => new ProblemError({ type: `${ERR}${type}`, detail, status });

export async function startIssuingAcmeDouble(options: IssuingAcmeDoubleOptions = {}): Promise<IssuingAcmeDouble> {
  const address = options.address ?? randomLoopback();
  const lab = await labDir('issuing-acme-double');
  try {
    const tag = randomBytes(3).toString('hex');
    const [tlsCa, ca] = await Promise.all([
      createCa(join(lab.path, 'tls-ca'), { cn: 'Issuing ACME double TLS CA', days: 2 }),
      DoubleCa.create(`${LABEL} ${tag}`, options.now?.() ?? new Date()),
    ]);
    const tls = await tlsCa.issue('server', { cn: 'issuing-acme-double', san: null, extensions: [`subjectAltName = IP:${address}`], days: 2 });
    const rootFile = join(lab.path, 'root.pem');
    await writeFile(rootFile, ca.rootPem);
    const state = new DoubleState(ca, options);
    const server: Server = createServer({ cert: tls.certPem + tlsCa.certPem, key: tls.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => void state.handle(req, res, body));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, address, () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    state.base = `https://${address}:${port}`;
    return {
      address,
      port,
      directoryUrl: `${state.base}/dir`,
      tlsCaFile: tlsCa.certFile,
      tlsCaPem: tlsCa.certPem,
      rootPem: ca.rootPem,
      rootFile,
      issuerName: ca.intermediateName,
      issuerPattern: ca.intermediateName,
      requests: state.requests,
      orders: () => state.requests.filter((r) => r.path === '/new-order' && r.method === 'POST').map((r) => r.payload as Record<string, unknown>),
      orderCount: () => state.orders.size,
      issued: () => [...state.orders.values()].flatMap((o) => (o.certificate ? [o.certificate] : [])),
      behave: (next) => {
        state.options = { ...state.options, ...next };
      },
      stop: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await lab.cleanup();
      },
    };
  } catch (error) {
    await lab.cleanup();
    throw error;
  }
}

/** The double's accounts, orders, authorizations and challenges, and the routes that act on them. */
class DoubleState {
  base = '';
  readonly requests: IssuingAcmeDoubleRequest[] = [];
  readonly orders = new Map<string, Order>();
  private readonly accounts = new Map<string, Account>();
  private readonly authzs = new Map<string, Authz>();
  private readonly challenges = new Map<string, Challenge>();
  private readonly certificates = new Map<string, Order>();
  private nextId = 1;

  constructor(
    private readonly ca: DoubleCa,
    public options: IssuingAcmeDoubleOptions,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? '?';
    const at = Date.now();
    const delay = this.options.delay;
    if (delay?.path.test(path)) {
      delay.onHold?.(path);
      await new Promise((resolve) => setTimeout(resolve, delay.ms).unref());
    }
    try {
      if (method === 'POST') {
        let jws;
        try {
          jws = decodeJws(body);
        } catch {
          this.requests.push({ method, path, payload: null, at });
          throw problem(400, 'malformed', 'the request is not a flattened JWS');
        }
        this.requests.push({ method, path, payload: jws.payload ?? null, at });
        return await this.post(res, path, jws);
      }
      this.requests.push({ method, path, payload: null, at });
      return this.get(res, method, path);
    } catch (error) {
      const p = error instanceof ProblemError ? error.problem : { type: `${ERR}serverInternal`, detail: (error as Error).message, status: 500 };
      this.send(res, p.status, p, { 'content-type': 'application/problem+json', ...(error instanceof ProblemError ? error.headers : {}) });
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    res
      .writeHead(status, {
        'replay-nonce': randomBytes(12).toString('base64url'),
        'cache-control': 'no-store',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      })
      .end(text);
  }

  private get(res: ServerResponse, method: string, path: string): void {
    if (method === 'GET' && path === '/dir') return this.send(res, 200, this.directory());
    if (path === '/nonce' && (method === 'HEAD' || method === 'GET')) return this.send(res, method === 'HEAD' ? 200 : 204, undefined);
    const ari = /^\/renewal-info\/([^/]+)$/.exec(path);
    if (method === 'GET' && ari && this.options.ari !== false) return this.renewalInfo(res, ari[1]!);
    throw problem(404, 'malformed', `the issuing ACME double has no ${method} ${path}`);
  }

  private directory(): Record<string, unknown> {
    const profiles = this.options.profiles;
    return {
      newNonce: `${this.base}/nonce`,
      newAccount: `${this.base}/new-acct`,
      newOrder: `${this.base}/new-order`,
      revokeCert: `${this.base}/revoke-cert`,
      ...(this.options.ari === false ? {} : { renewalInfo: `${this.base}/renewal-info` }),
      meta: {
        website: 'https://example.test/issuing-acme-double',
        externalAccountRequired: false,
        ...(profiles
          ? { profiles: Object.fromEntries(Object.entries(profiles).map(([name, p]) => [name, p.description ?? `${name} (${p.lifetimeHours} h)`])) }
          : {}),
      },
    };
  }

  private async post(res: ServerResponse, path: string, jws: ReturnType<typeof decodeJws>): Promise<void> {
    if (path === '/new-acct') return this.newAccount(res, jws);
    const account = this.accountOf(jws);
    const payload = jws.payload as Record<string, unknown> | undefined;
    const [, kind, id] = /^\/([a-z-]+)\/([^/]+)$/.exec(path) ?? [];
    if (path === '/new-order') return this.newOrder(res, account, payload ?? {});
    if (path === '/revoke-cert') return this.send(res, 200, undefined);
    if (kind === 'acct' && id === account.id) return this.send(res, 200, { status: 'valid', orders: `${this.base}/orders/${account.id}` });
    if (kind === 'order') {
      const order = this.owned(this.orders.get(id!), account, path);
      return this.send(res, 200, this.orderJson(order), order.status === 'pending' || order.status === 'processing' ? this.retryAfter() : {});
    }
    if (kind === 'authz') {
      const authz = this.authzs.get(id!);
      this.owned(authz?.order, account, path);
      return this.authorization(res, authz!, payload);
    }
    if (kind === 'chall') {
      const challenge = this.challenges.get(id!);
      this.owned(challenge?.authz.order, account, path);
      return this.respond(res, challenge!);
    }
    if (kind === 'finalize') return this.finalize(res, this.owned(this.orders.get(id!), account, path), payload);
    if (kind === 'cert') {
      const order = this.owned(this.certificates.get(id!), account, path);
      return this.send(res, 200, order.certificate!.chainPem, { 'content-type': 'application/pem-certificate-chain' });
    }
    throw problem(404, 'malformed', `the issuing ACME double has no POST ${path}`);
  }

  private owned<T extends { account: Account }>(thing: T | undefined, account: Account, path: string): T {
    if (!thing) throw problem(404, 'malformed', `nothing at ${path}`);
    if (thing.account !== account) throw problem(403, 'unauthorized', `${path} belongs to another account`);
    return thing;
  }

  /** The account a kid-signed request names, its signature checked. */
  private accountOf(jws: ReturnType<typeof decodeJws>): Account {
    const id = jws.header.kid?.startsWith(`${this.base}/acct/`) ? jws.header.kid.slice(`${this.base}/acct/`.length) : undefined;
    const account = id ? this.accounts.get(id) : undefined;
    if (!account) throw problem(400, 'accountDoesNotExist', `no account ${jws.header.kid ?? '(no kid)'}`);
    if (!jws.verifiedBy(account.jwk)) throw problem(400, 'malformed', 'the JWS signature does not verify with the account key');
    return account;
  }

  private newAccount(res: ServerResponse, jws: ReturnType<typeof decodeJws>): void {
    const jwk = jws.header.jwk;
    if (!jwk || !jws.verifiedBy(jwk)) throw problem(400, 'malformed', 'newAccount needs a jwk the JWS verifies with');
    const thumbprint = jwkThumbprint(jwk);
    const existing = [...this.accounts.values()].find((a) => a.thumbprint === thumbprint);
    const payload = (jws.payload ?? {}) as { onlyReturnExisting?: boolean };
    if (!existing && payload.onlyReturnExisting) throw problem(400, 'accountDoesNotExist', 'no account for this key');
    const account = existing ?? { id: String(this.nextId++), jwk, thumbprint };
    this.accounts.set(account.id, account);
    this.send(res, existing ? 200 : 201, { status: 'valid', orders: `${this.base}/orders/${account.id}` }, { location: `${this.base}/acct/${account.id}` });
  }

  private newOrder(res: ServerResponse, account: Account, payload: Record<string, unknown>): void {
    const identifiers = payload.identifiers as { type?: string; value?: string }[] | undefined;
    if (!Array.isArray(identifiers) || identifiers.length === 0 || identifiers.some((i) => i.type !== 'dns' || typeof i.value !== 'string')) {
      throw problem(400, 'malformed', 'an order needs dns identifiers');
    }
    const profile = this.profileOf(payload.profile);
    const preValidated = (this.options.validation ?? 'none') === 'none';
    const order: Order = {
      id: String(this.nextId++),
      account,
      status: preValidated ? 'ready' : 'pending',
      names: identifiers.map((i) => i.value!.toLowerCase()),
      authzs: [],
      profile,
      replaces: typeof payload.replaces === 'string' ? payload.replaces : undefined,
      expires: new Date(Date.now() + 7 * 86_400_000),
    };
    for (const name of order.names) {
      const authz = { id: String(this.nextId++), name, status: preValidated ? 'valid' : 'pending', order, challenges: [] } as Authz;
      for (const type of this.offered()) {
        const challenge: Challenge = { id: String(this.nextId++), type, token: randomBytes(16).toString('base64url'), status: authz.status as 'valid', authz };
        authz.challenges.push(challenge);
        this.challenges.set(challenge.id, challenge);
      }
      this.authzs.set(authz.id, authz);
      order.authzs.push(authz);
    }
    this.orders.set(order.id, order);
    this.send(res, 201, this.orderJson(order), { location: `${this.base}/order/${order.id}` });
  }

  /** The challenge types an authorization offers: http-01 unless only dns-persist-01 is configured. */
  private offered(): Challenge['type'][] {
    const validation = this.options.validation ?? 'none';
    if (validation === 'none') return ['http-01'];
    return [...(validation.http01 || !validation.dnsPersist01 ? ['http-01' as const] : []), ...(validation.dnsPersist01 ? ['dns-persist-01' as const] : [])];
  }

  /** The profile an order gets: the one it names (refused when not offered), else the default; none when none are offered. */
  private profileOf(asked: unknown): string | undefined {
    const offered = Object.keys(this.options.profiles ?? {});
    if (offered.length === 0) return undefined;
    if (asked === undefined) return this.options.defaultProfile ?? offered[0];
    if (typeof asked !== 'string' || !offered.includes(asked)) {
      throw problem(400, 'invalidProfile', `profile ${JSON.stringify(asked)} is not offered (offered: ${offered.join(', ')})`);
    }
    return asked;
  }

  private orderJson(order: Order): Record<string, unknown> {
    return {
      status: order.status,
      expires: order.expires.toISOString(),
      identifiers: order.names.map((value) => ({ type: 'dns', value })),
      authorizations: order.authzs.map((a) => `${this.base}/authz/${a.id}`),
      finalize: `${this.base}/finalize/${order.id}`,
      ...(order.profile === undefined ? {} : { profile: order.profile }),
      ...(order.replaces === undefined ? {} : { replaces: order.replaces }),
      ...(order.certificate ? { certificate: `${this.base}/cert/${order.id}` } : {}),
      ...(order.error ? { error: order.error } : {}),
    };
  }

  private authorization(res: ServerResponse, authz: Authz, payload: Record<string, unknown> | undefined): void {
    if (payload?.status === 'deactivated') {
      authz.status = 'deactivated';
      if (authz.order.status === 'pending') authz.order.status = 'invalid';
    }
    this.send(res, 200, this.authzJson(authz), authz.status === 'pending' ? this.retryAfter() : {});
  }

  /** The Retry-After header the options ask for, if any. */
  private retryAfter(): Record<string, string> {
    return this.options.retryAfterSeconds === undefined ? {} : { 'retry-after': String(this.options.retryAfterSeconds) };
  }

  private authzJson(authz: Authz): Record<string, unknown> {
    return {
      identifier: { type: 'dns', value: authz.name },
      status: authz.status,
      expires: authz.order.expires.toISOString(),
      challenges: authz.challenges.map((c) => this.challengeJson(c)),
    };
  }

  private challengeJson(challenge: Challenge): Record<string, unknown> {
    const validation = this.options.validation;
    return {
      type: challenge.type,
      url: `${this.base}/chall/${challenge.id}`,
      status: challenge.status,
      // dns-persist-01 has no token: the record names the CA and the account instead.
      ...(challenge.type === 'http-01'
        ? { token: challenge.token }
        : { 'issuer-domain-names': validation && validation !== 'none' ? (validation.dnsPersist01?.issuerDomainNames ?? []) : [] }),
      ...(challenge.error ? { error: challenge.error } : {}),
    };
  }

  /** The client says the challenge is in place: it is checked in the background, as a CA's VA does. */
  private respond(res: ServerResponse, challenge: Challenge): void {
    if (challenge.status === 'pending') {
      challenge.status = 'processing';
      void this.validate(challenge);
    }
    this.send(res, 200, this.challengeJson(challenge), { link: `<${this.base}/authz/${challenge.authz.id}>;rel="up"`, ...this.retryAfter() });
  }

  private async validate(challenge: Challenge): Promise<void> {
    const { authz } = challenge;
    const delay = this.options.validationDelayMs ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
    const failure = await this.check(challenge);
    challenge.status = failure ? 'invalid' : 'valid';
    authz.status = failure ? 'invalid' : 'valid';
    if (failure) challenge.error = { type: `${ERR}unauthorized`, detail: failure, status: 403 };
    const order = authz.order;
    if (order.status !== 'pending') return;
    if (failure) order.status = 'invalid';
    else if (order.authzs.every((a) => a.status === 'valid')) order.status = 'ready';
  }

  /** The VA's verdict on one answered challenge: null when it passes, else why not. */
  private async check(challenge: Challenge): Promise<string | null> {
    const validation = this.options.validation ?? 'none';
    if (validation === 'none') return null;
    const { authz } = challenge;
    const { caChecks } = this.options;
    if (caChecks && challenge.type === 'http-01') {
      const keyAuthorization = `${challenge.token}.${authz.order.account.thumbprint}`;
      return checkAsCa(caChecks, { name: authz.name, token: challenge.token, keyAuthorization, accountUri: `${this.base}/acct/${authz.order.account.id}` });
    }
    if (challenge.type === 'dns-persist-01') {
      const accountUri = `${this.base}/acct/${authz.order.account.id}`;
      // CAA binds every method: a real CA checks it for a standing record too.
      const caa = caChecks ? await caaAsCa(caChecks, authz.name, accountUri, challenge.type) : null;
      return caa ?? checkDnsPersist01(validation.dnsPersist01!, authz.name, accountUri, this.options.now?.() ?? new Date());
    }
    return validation.http01
      ? checkHttp01(validation.http01, authz.name, challenge.token, `${challenge.token}.${authz.order.account.thumbprint}`)
      : 'http-01 is not offered';
  }

  private async finalize(res: ServerResponse, order: Order, payload: Record<string, unknown> | undefined): Promise<void> {
    if (order.status !== 'ready') throw problem(403, 'orderNotReady', `the order is ${order.status}, not ready`);
    let csr;
    try {
      csr = await readCsr(Buffer.from(String(payload?.csr ?? ''), 'base64url'));
    } catch (error) {
      throw problem(400, 'badCSR', `the CSR cannot be read: ${(error as Error).message}`);
    }
    const wanted = [...order.names].sort().join(',');
    if ([...csr.names].sort().join(',') !== wanted) throw problem(400, 'badCSR', `the CSR names ${csr.names.join(', ')}, the order ${order.names.join(', ')}`);
    const profile = order.profile === undefined ? undefined : this.options.profiles?.[order.profile];
    const now = this.options.now?.() ?? new Date();
    const leaf = await this.ca.issue({
      names: order.names,
      publicKey: csr.publicKey,
      notBefore: new Date(now.getTime() - 60_000),
      lifetimeHours: profile?.lifetimeHours ?? this.options.lifetimeHours ?? 2160,
      emptySubject: profile?.emptySubject ?? false,
    });
    order.certificate = { ...leaf, chainPem: leaf.pem + this.ca.intermediatePem, names: order.names, profile: order.profile };
    order.status = 'valid';
    this.certificates.set(order.id, order);
    this.send(res, 200, this.orderJson(order), { location: `${this.base}/order/${order.id}` });
  }

  private renewalInfo(res: ServerResponse, certId: string): void {
    const cert = [...this.certificates.values()].find((o) => o.certificate!.certId === certId)?.certificate;
    if (!cert) throw problem(404, 'malformed', `no certificate ${certId} was issued here`);
    const ari = this.options.ari ?? 'lifetime';
    const window = ari === 'lifetime' ? lifetimeWindow(cert) : ari === false ? 'malformed' : ari(cert);
    if (window === 'malformed') return this.send(res, 200, { explanationURL: 'https://example.test/no-window' }, { 'retry-after': '21600' });
    this.send(res, 200, { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } }, { 'retry-after': '21600' });
  }
}

/** Let's Encrypt's way: a window around two thirds of the certificate's life, a fiftieth of it either side. */
function lifetimeWindow(cert: IssuingAcmeDoubleCertificate): { start: Date; end: Date } {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  const middle = cert.notBefore.getTime() + (2 * life) / 3;
  return { start: new Date(middle - life / 50), end: new Date(middle + life / 50) };
}
