import { createHash, createHmac, KeyObject, sign, webcrypto } from 'node:crypto';

const { subtle } = webcrypto;

export type JwsAlgorithm = 'ES256' | 'RS256';

/** A flattened JWS (RFC 7515 section 7.2.2), the only serialization ACME accepts. */
export interface FlattenedJws {
  protected: string;
  payload: string;
  signature: string;
}

export type Jwk = Record<string, string>;

export function b64u(data: Uint8Array | string): string {
  return Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

const ALGORITHMS: Record<JwsAlgorithm, { generate: EcKeyGenParams | RsaHashedKeyGenParams; import: EcKeyImportParams | RsaHashedImportParams }> = {
  ES256: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    import: { name: 'ECDSA', namedCurve: 'P-256' },
  },
  RS256: {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
};

/**
 * An ACME account key, made and stored through WebCrypto. Requests are signed with node's synchronous
 * `crypto.sign` on the same key as a KeyObject: a third of WebCrypto's CPU per signature (no thread-pool round
 * trip), and every ACME request is signed. ES256 signatures are asked for as r||s (IEEE P1363), which is exactly
 * what JWS wants.
 */
export class AccountKey {
  private readonly signingKey: KeyObject;

  private constructor(
    readonly algorithm: JwsAlgorithm,
    private readonly privateKey: webcrypto.CryptoKey,
    readonly jwk: Jwk,
  ) {
    this.signingKey = KeyObject.from(privateKey);
  }

  static async generate(algorithm: JwsAlgorithm = 'ES256'): Promise<AccountKey> {
    const pair = (await subtle.generateKey(ALGORITHMS[algorithm].generate, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    return AccountKey.fromKeys(algorithm, pair.privateKey);
  }

  /** From a PKCS#8 PEM (as `toPem()` writes it). */
  static async fromPem(pem: string, algorithm: JwsAlgorithm): Promise<AccountKey> {
    const body = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
    const key = await subtle.importKey('pkcs8', Buffer.from(body, 'base64'), ALGORITHMS[algorithm].import, true, ['sign']);
    return AccountKey.fromKeys(algorithm, key);
  }

  private static async fromKeys(algorithm: JwsAlgorithm, privateKey: webcrypto.CryptoKey): Promise<AccountKey> {
    const full = (await subtle.exportKey('jwk', privateKey)) as Record<string, string>;
    // The public members only, in the lexicographic order RFC 7638 wants for the thumbprint.
    const jwk: Jwk = algorithm === 'ES256' ? { crv: full.crv!, kty: 'EC', x: full.x!, y: full.y! } : { e: full.e!, kty: 'RSA', n: full.n! };
    return new AccountKey(algorithm, privateKey, jwk);
  }

  async toPem(): Promise<string> {
    const der = Buffer.from(await subtle.exportKey('pkcs8', this.privateKey));
    return `-----BEGIN PRIVATE KEY-----\n${der
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  }

  /** RFC 7638 thumbprint, base64url. */
  thumbprint(): string {
    return createHash('sha256').update(JSON.stringify(this.jwk)).digest('base64url');
  }

  /** The key authorization for a challenge token (RFC 8555 section 8.1). */
  keyAuthorization(token: string): string {
    return `${token}.${this.thumbprint()}`;
  }

  /** A JWS over `payload` (undefined = POST-as-GET, empty payload) with either the account URL (kid) or the JWK. */
  async sign(payload: unknown, header: { url: string; nonce?: string; kid?: string }): Promise<FlattenedJws> {
    const protectedHeader: Record<string, unknown> = { alg: this.algorithm, url: header.url };
    if (header.nonce !== undefined) protectedHeader.nonce = header.nonce;
    if (header.kid) protectedHeader.kid = header.kid;
    else protectedHeader.jwk = this.jwk;
    const encodedProtected = b64u(JSON.stringify(protectedHeader));
    const encodedPayload = payload === undefined ? '' : b64u(JSON.stringify(payload));
    const data = Buffer.from(`${encodedProtected}.${encodedPayload}`, 'ascii');
    const signature =
      this.algorithm === 'ES256' ? sign('sha256', data, { key: this.signingKey, dsaEncoding: 'ieee-p1363' }) : sign('sha256', data, this.signingKey);
    return { protected: encodedProtected, payload: encodedPayload, signature: signature.toString('base64url') };
  }
}

/**
 * The External Account Binding (RFC 8555 section 7.3.4): an HS256 JWS over the account's public JWK, keyed by
 * the CA's HMAC key (base64url, may begin with '-').
 */
export function externalAccountBinding(accountJwk: Jwk, eab: { kid: string; hmacKey: string }, newAccountUrl: string): FlattenedJws {
  const encodedProtected = b64u(JSON.stringify({ alg: 'HS256', kid: eab.kid, url: newAccountUrl }));
  const encodedPayload = b64u(JSON.stringify(accountJwk));
  const key = Buffer.from(eab.hmacKey, 'base64url');
  const signature = createHmac('sha256', key).update(`${encodedProtected}.${encodedPayload}`).digest('base64url');
  return { protected: encodedProtected, payload: encodedPayload, signature };
}

/** dns-01's TXT value: base64url(SHA-256(key authorization)). */
export function dns01Value(keyAuthorization: string): string {
  return createHash('sha256').update(keyAuthorization).digest('base64url');
}
