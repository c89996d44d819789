import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';

/** A flattened JWS as an ACME client POSTs it, decoded. */
export interface DecodedJws {
  header: { alg?: string; url?: string; nonce?: string; kid?: string; jwk?: JsonWebKey };
  /** The decoded JSON payload; undefined for POST-as-GET (an empty payload). */
  payload: unknown;
  /** Checks the signature against a public JWK (ES256 or RS256, what certsmith's client signs with). */
  verifiedBy(jwk: JsonWebKey): boolean;
}

/** Decodes a flattened JWS (RFC 7515 section 7.2.2); throws on anything else. */
export function decodeJws(body: string): DecodedJws {
  const jws = JSON.parse(body) as { protected?: string; payload?: string; signature?: string };
  if (typeof jws.protected !== 'string' || typeof jws.payload !== 'string' || typeof jws.signature !== 'string') {
    throw new Error('not a flattened JWS');
  }
  const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as DecodedJws['header'];
  const payload = jws.payload === '' ? undefined : (JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as unknown);
  const signed = Buffer.from(`${jws.protected}.${jws.payload}`, 'ascii');
  const signature = Buffer.from(jws.signature, 'base64url');
  return {
    header,
    payload,
    verifiedBy(jwk) {
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        if (header.alg === 'ES256') return verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, signature);
        if (header.alg === 'RS256') return verify('sha256', signed, key, signature);
        return false;
      } catch {
        return false;
      }
    },
  };
}

/** RFC 7638 thumbprint (base64url SHA-256 of the required members in lexicographic order). */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
