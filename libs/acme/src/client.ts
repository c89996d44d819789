import { X509Certificate } from 'node:crypto';
import { AccountKey, b64u, externalAccountBinding } from './jws.js';
import { eabRefusalOf } from './eab.js';
import { AcmeError, type ProblemDocument } from './problem.js';
import { AcmeTransport, type AcmeResponse } from './transport.js';

export interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert?: string;
  keyChange?: string;
  /** RFC 9773 (ACME Renewal Information). */
  renewalInfo?: string;
  meta?: {
    externalAccountRequired?: boolean;
    termsOfService?: string;
    website?: string;
    caaIdentities?: string[];
    /** ACME profiles (draft-aaron-acme-profiles): profile name → description. */
    profiles?: Record<string, string>;
  };
}

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

export interface Order {
  url: string;
  status: OrderStatus;
  identifiers: { type: string; value: string }[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: ProblemDocument;
  expires?: string;
  /** The profile the CA issues this order under, as it echoes it (ACME profiles). */
  profile?: string;
  retryAfter?: Date;
}

export interface AcmeChallenge {
  type: string;
  url: string;
  status: 'pending' | 'processing' | 'valid' | 'invalid';
  token?: string;
  /** dns-persist-01: the CA's issuer domain names, one of which the standing record must carry (early drafts: one). */
  'issuer-domain-names'?: string[];
  'issuer-domain-name'?: string;
  error?: ProblemDocument;
  /** When the CA says to look again (Retry-After on the answer to a challenge). */
  retryAfter?: Date;
}

export interface Authorization {
  url: string;
  status: 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
  identifier: { type: string; value: string };
  challenges: AcmeChallenge[];
  wildcard?: boolean;
  retryAfter?: Date;
}

export interface CertificateChain {
  /** Leaf first, then the chain, as PEM blocks. */
  pems: string[];
  url: string;
  /** Issuer CN of the topmost certificate: what a preferred-chain option names. */
  readonly topIssuer: string | null;
}

export interface Eab {
  kid: string;
  /** base64url; never logged. */
  hmacKey: string;
  /** The 0600 file it was read from, named in what-to-do messages. */
  keyFile?: string;
}

export interface RenewalInfo {
  suggestedWindow: { start: Date; end: Date };
  explanationURL?: string;
  /** When to ask again (Retry-After). */
  retryAfter?: Date;
}

/**
 * An RFC 8555 client: directory, nonces (one retry on badNonce), JWS-signed POSTs, accounts with EAB, orders,
 * authorizations, challenges, finalization, certificates with alternate chains, revocation, ARI.
 * It knows nothing about DCV plugins or state on disk: see `driveOrder` and `AcmeIssuer` for that.
 */
export class AcmeClient {
  private directoryDoc: Directory | undefined;
  private nonces: string[] = [];
  private nonceByGet = true;
  private account: { key: AccountKey; url: string } | undefined;

  constructor(
    readonly directoryUrl: string,
    readonly transport: AcmeTransport,
    private readonly badNonceRetries = 16,
  ) {}

  get accountUrl(): string | undefined {
    return this.account?.url;
  }

  /** The key requests are signed with (it changes when the account is registered anew). */
  get accountKey(): AccountKey | undefined {
    return this.account?.key;
  }

  useAccount(key: AccountKey, url: string): void {
    this.account = { key, url };
  }

  async directory(signal: AbortSignal): Promise<Directory> {
    if (this.directoryDoc) return this.directoryDoc;
    const response = await this.transport.send('GET', this.directoryUrl, signal);
    const doc = response.json as Partial<Directory> | undefined;
    const isUrl = (v: unknown) => typeof v === 'string' && /^https?:\/\//.test(v);
    if (!doc || typeof doc !== 'object' || !isUrl(doc.newNonce) || !isUrl(doc.newAccount) || !isUrl(doc.newOrder)) {
      throw new AcmeError(
        'ACME_NOT_A_DIRECTORY',
        `${this.directoryUrl} is not an ACME directory (no newNonce/newAccount/newOrder URLs in its answer): check the directory URL`,
      );
    }
    this.directoryDoc = doc as Directory;
    return this.directoryDoc;
  }

  private async nonce(signal: AbortSignal): Promise<string> {
    const pooled = this.nonces.pop();
    if (pooled) return pooled;
    const { newNonce } = await this.directory(signal);
    // GET (204) first, as RFC 8555 section 7.2 allows: a HEAD answered 200 without a body length makes some servers
    // (Pebble, Go's net/http) close the connection, so each HEAD cost a new TLS handshake. A CA that refuses GET
    // is asked by HEAD from then on.
    if (this.nonceByGet) {
      try {
        const response = await this.transport.send('GET', newNonce, signal);
        if (response.nonce) return response.nonce;
      } catch (error) {
        if (signal.aborted || (error instanceof AcmeError && error.code === 'CA_UNREACHABLE')) throw error;
      }
      this.nonceByGet = false;
    }
    const response = await this.transport.send('HEAD', newNonce, signal);
    if (!response.nonce) throw new AcmeError('ACME_BAD_RESPONSE', `the CA's newNonce (${newNonce}) gave no Replay-Nonce header`);
    return response.nonce;
  }

  /**
   * A signed POST (payload undefined = POST-as-GET). A badNonce answer is retried with the fresh nonce the error
   * carried (RFC 8555 section 6.5). One retry is what a healthy CA ever needs, but a CA that rejects half its
   * nonces (Pebble's PEBBLE_WFE_NONCEREJECT=50) fails a dozen-request order three times in four with one retry,
   * so the retries are bounded by `badNonceRetries` (default 16) instead.
   */
  async post(url: string, payload: unknown, signal: AbortSignal, options: { jwk?: AccountKey; accept?: string } = {}): Promise<AcmeResponse> {
    const key = options.jwk ?? this.account?.key;
    if (!key) throw new AcmeError('ACME_NO_ACCOUNT', 'internal: a signed request needs an account key');
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.nonce(signal);
      const jws = await key.sign(payload, { url, nonce, kid: options.jwk ? undefined : this.account!.url });
      try {
        const response = await this.transport.send('POST', url, signal, JSON.stringify(jws), options.accept);
        if (response.nonce) this.nonces.push(response.nonce);
        return response;
      } catch (error) {
        if (error instanceof AcmeError) {
          if (error.nonce) this.nonces.push(error.nonce);
          if (error.code === 'ACME_BAD_NONCE' && attempt < this.badNonceRetries) continue;
        }
        throw error;
      }
    }
  }

  /**
   * Creates the account (or finds the existing one for this key: newAccount answers 200 then). With EAB, the
   * binding is an HS256 JWS over the account key. A refused binding says what to do: EAB_KEY_SPENT (the CA has
   * already bound that key to an account), EAB_KEY_UNKNOWN (the CA does not know the key id), EAB_REJECTED
   * (anything else, usually a wrong HMAC key), each with the CA's own words and never the key.
   */
  async createAccount(key: AccountKey, options: { contact?: string[]; eab?: Eab }, signal: AbortSignal): Promise<string> {
    const dir = await this.directory(signal);
    const payload: Record<string, unknown> = { termsOfServiceAgreed: true };
    if (options.contact?.length) payload.contact = options.contact;
    if (options.eab) payload.externalAccountBinding = externalAccountBinding(key.jwk, options.eab, dir.newAccount);
    else if (dir.meta?.externalAccountRequired) {
      throw new AcmeError(
        'EAB_REQUIRED',
        `the CA at ${this.directoryUrl} requires External Account Binding: set the EAB key id and HMAC key file in the issuer's options`,
      );
    }
    let response: AcmeResponse;
    try {
      response = await this.post(dir.newAccount, payload, signal, { jwk: key });
    } catch (error) {
      if (options.eab && error instanceof AcmeError && error.problem) throw this.eabError(options.eab, error);
      throw error;
    }
    if (!response.location) throw new AcmeError('ACME_BAD_RESPONSE', 'the CA created an account but sent no Location header');
    this.account = { key, url: response.location };
    return response.location;
  }

  private eabError(eab: Eab, error: AcmeError): AcmeError {
    const detail = error.problem?.detail ?? error.message;
    const refusal = eabRefusalOf(error.type, detail);
    if (refusal === 'rejected' && !['unauthorized', 'malformed', 'externalAccountRequired', 'badPublicKey'].includes(error.type ?? '')) return error;
    const ca = `the CA at ${new URL(this.directoryUrl).host}`;
    const file = eab.keyFile ?? "the issuer's eab.keyFile";
    const renew = `ask ${ca} for a new EAB key, then put its key id in the issuer's eab.kid and its HMAC key in ${file} (mode 0600)`;
    const [code, message] =
      refusal === 'spent'
        ? ['EAB_KEY_SPENT', `${ca} says the EAB key id "${eab.kid}" has already been used (${detail}): an EAB key registers one account; ${renew}`]
        : refusal === 'unknown'
          ? ['EAB_KEY_UNKNOWN', `${ca} does not know the EAB key id "${eab.kid}" (${detail}): check the issuer's eab.kid, or ${renew}`]
          : [
              'EAB_REJECTED',
              `the CA rejected the External Account Binding for key id "${eab.kid}": ${detail} (check the EAB key id and the HMAC key in ${file})`,
            ];
    return new AcmeError(code, message, { problem: error.problem, status: error.status, cause: error });
  }

  /** The account URL for this key, or null when the CA knows no such account. */
  async findAccount(key: AccountKey, signal: AbortSignal): Promise<string | null> {
    const dir = await this.directory(signal);
    try {
      const response = await this.post(dir.newAccount, { onlyReturnExisting: true }, signal, { jwk: key });
      if (!response.location) return null;
      this.account = { key, url: response.location };
      return response.location;
    } catch (error) {
      if (error instanceof AcmeError && error.code === 'ACME_ACCOUNT_DOES_NOT_EXIST') return null;
      throw error;
    }
  }

  async newOrder(names: string[], signal: AbortSignal, options: { replaces?: string; profile?: string } = {}): Promise<Order> {
    const dir = await this.directory(signal);
    const payload: Record<string, unknown> = { identifiers: names.map((value) => ({ type: 'dns', value })) };
    if (options.replaces) payload.replaces = options.replaces;
    if (options.profile) payload.profile = options.profile;
    const response = await this.post(dir.newOrder, payload, signal);
    if (!response.location) throw new AcmeError('ACME_BAD_RESPONSE', 'the CA created an order but sent no Location header');
    return this.orderOf(response, response.location);
  }

  async getOrder(url: string, signal: AbortSignal): Promise<Order> {
    return this.orderOf(await this.post(url, undefined, signal), url);
  }

  async getAuthorization(url: string, signal: AbortSignal): Promise<Authorization> {
    const response = await this.post(url, undefined, signal);
    const body = expectObject(response, 'authorization') as Omit<Authorization, 'url'>;
    if (!Array.isArray(body.challenges) || !body.identifier)
      throw new AcmeError('ACME_BAD_RESPONSE', `the authorization at ${url} has no identifier or challenges`);
    return { ...body, url, retryAfter: response.retryAfter };
  }

  /** Gives up an authorization (RFC 8555 section 7.5.2): the CA stops checking it and no order can use it again. */
  async deactivateAuthorization(url: string, signal: AbortSignal): Promise<Authorization> {
    const response = await this.post(url, { status: 'deactivated' }, signal);
    return { ...(expectObject(response, 'authorization') as Omit<Authorization, 'url'>), url };
  }

  /** Tells the CA a challenge is ready to be checked (an empty JSON object, RFC 8555 section 7.5.1). */
  async respond(challenge: AcmeChallenge, signal: AbortSignal): Promise<AcmeChallenge> {
    const response = await this.post(challenge.url, {}, signal);
    return { ...(expectObject(response, 'challenge') as unknown as AcmeChallenge), url: challenge.url, retryAfter: response.retryAfter };
  }

  async finalize(order: Order, csrDer: Uint8Array, signal: AbortSignal): Promise<Order> {
    const response = await this.post(order.finalize, { csr: b64u(csrDer) }, signal);
    return this.orderOf(response, order.url);
  }

  /**
   * Downloads the certificate. With a preferred chain, the default and each `Link: rel="alternate"` chain are
   * fetched until one whose topmost issuer (or any certificate in it) has that CN; the default chain otherwise.
   */
  async certificate(url: string, signal: AbortSignal, preferredChain?: string): Promise<CertificateChain> {
    const fetchChain = async (at: string) => {
      const response = await this.post(at, undefined, signal, { accept: 'application/pem-certificate-chain' });
      const pems = response.text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (pems.length === 0) throw new AcmeError('ACME_BAD_RESPONSE', `the certificate at ${at} is not a PEM chain`);
      let topIssuer: string | null | undefined;
      const chain: CertificateChain = {
        pems: pems.map((p) => `${p}\n`),
        url: at,
        // Parsed when asked (a preferred chain): OpenSSL's parse is ~0.5 ms that most orders never need.
        get topIssuer() {
          return (topIssuer ??= commonName(new X509Certificate(pems[pems.length - 1]!).issuer));
        },
      };
      return { chain, alternates: response.links.alternate ?? [] };
    };
    const { chain, alternates } = await fetchChain(url);
    if (!preferredChain || matchesChain(chain, preferredChain)) return chain;
    for (const alternate of alternates) {
      const other = (await fetchChain(alternate)).chain;
      if (matchesChain(other, preferredChain)) return other;
    }
    return chain;
  }

  /** Revokes a certificate with the account key (RFC 8555 section 7.6). */
  async revoke(certificateDer: Uint8Array, signal: AbortSignal, reason?: number): Promise<void> {
    const dir = await this.directory(signal);
    if (!dir.revokeCert) throw new AcmeError('ACME_UNSUPPORTED', `the CA at ${this.directoryUrl} offers no revokeCert`);
    const payload: Record<string, unknown> = { certificate: b64u(certificateDer) };
    if (reason !== undefined) payload.reason = reason;
    await this.post(dir.revokeCert, payload, signal);
  }

  /** ACME Renewal Information (RFC 9773) for a certificate, or null when the directory offers none. */
  async renewalInfo(certId: string, signal: AbortSignal): Promise<RenewalInfo | null> {
    const dir = await this.directory(signal);
    if (!dir.renewalInfo) return null;
    const response = await this.transport.send('GET', `${dir.renewalInfo.replace(/\/$/, '')}/${certId}`, signal);
    const body = response.json as { suggestedWindow?: { start?: string; end?: string }; explanationURL?: string } | undefined;
    const start = new Date(body?.suggestedWindow?.start ?? NaN);
    const end = new Date(body?.suggestedWindow?.end ?? NaN);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
      throw new AcmeError(
        'ARI_INVALID',
        `the CA's answer for ${certId} has no valid suggestedWindow (${JSON.stringify(body?.suggestedWindow ?? null).slice(0, 120)})`,
      );
    }
    return { suggestedWindow: { start, end }, explanationURL: body?.explanationURL, retryAfter: response.retryAfter };
  }

  private orderOf(response: AcmeResponse, url: string): Order {
    const body = expectObject(response, 'order') as Omit<Order, 'url'>;
    if (typeof body.status !== 'string' || !Array.isArray(body.authorizations) || typeof body.finalize !== 'string') {
      throw new AcmeError('ACME_BAD_RESPONSE', `the order at ${url} lacks status, authorizations or finalize`);
    }
    return { ...body, url, retryAfter: response.retryAfter };
  }
}

function expectObject(response: AcmeResponse, what: string): Record<string, unknown> {
  if (!response.json || typeof response.json !== 'object' || Array.isArray(response.json)) {
    throw new AcmeError('ACME_BAD_RESPONSE', `the CA's ${what} at ${response.url} is not a JSON object: ${JSON.stringify(response.text.slice(0, 80))}`);
  }
  return response.json as Record<string, unknown>;
}

function commonName(distinguishedName: string): string | null {
  return /(?:^|\n|,\s*)CN=([^\n,]*)/.exec(distinguishedName)?.[1]?.trim() ?? null;
}

function matchesChain(chain: CertificateChain, name: string): boolean {
  const wanted = name.toLowerCase();
  if (chain.topIssuer?.toLowerCase() === wanted) return true;
  return chain.pems.slice(1).some((pem) => commonName(new X509Certificate(pem).subject ?? '')?.toLowerCase() === wanted);
}
