import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountKey, type JwsAlgorithm } from './jws.js';

const { subtle } = webcrypto;

/** Verifies a flattened JWS with WebCrypto, from the public JWK in the key (as a CA does). */
async function verifies(key: AccountKey, jws: { protected: string; payload: string; signature: string }): Promise<boolean> {
  const params =
    key.algorithm === 'ES256'
      ? { importAs: { name: 'ECDSA', namedCurve: 'P-256' }, verifyAs: { name: 'ECDSA', hash: 'SHA-256' } }
      : { importAs: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verifyAs: { name: 'RSASSA-PKCS1-v1_5' } };
  const publicKey = await subtle.importKey('jwk', key.jwk as webcrypto.JsonWebKey, params.importAs, false, ['verify']);
  return subtle.verify(params.verifyAs, publicKey, Buffer.from(jws.signature, 'base64url'), Buffer.from(`${jws.protected}.${jws.payload}`, 'ascii'));
}

describe('AccountKey.sign', () => {
  for (const algorithm of ['ES256', 'RS256'] as JwsAlgorithm[]) {
    it(`${algorithm}: a JWS a CA verifies with the account's public JWK, also after the key went through its PEM file`, async () => {
      const key = await AccountKey.generate(algorithm);
      const jws = await key.sign(
        { identifiers: [{ type: 'dns', value: 'a.example.test' }] },
        { url: 'https://ca.test/new-order', nonce: 'n1', kid: 'https://ca.test/acct/1' },
      );
      expect(JSON.parse(Buffer.from(jws.protected, 'base64url').toString())).toEqual({
        alg: algorithm,
        url: 'https://ca.test/new-order',
        nonce: 'n1',
        kid: 'https://ca.test/acct/1',
      });
      expect(await verifies(key, jws)).toBe(true);
      // ES256 in JWS is r||s, 64 bytes, not DER
      if (algorithm === 'ES256') expect(Buffer.from(jws.signature, 'base64url')).toHaveLength(64);
      const reloaded = await AccountKey.fromPem(await key.toPem(), algorithm);
      const asGet = await reloaded.sign(undefined, { url: 'https://ca.test/authz/1', nonce: 'n2' });
      expect(asGet.payload).toBe('');
      expect(JSON.parse(Buffer.from(asGet.protected, 'base64url').toString()).jwk).toEqual(key.jwk);
      expect(await verifies(key, asGet)).toBe(true);
      const tampered = { ...asGet, payload: Buffer.from('{}').toString('base64url') };
      expect(await verifies(key, tampered)).toBe(false);
    });
  }
});
