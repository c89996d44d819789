import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * Signing algorithms this code verifies: 8 RSASSA-PKCS1-v1_5 with SHA-256 (RFC 5702), 13 and 14 ECDSA P-256/SHA-256
 * and P-384/SHA-384 (RFC 6605), 15 Ed25519 (RFC 8080).
 */
export const SUPPORTED_ALGORITHMS: readonly number[] = [8, 13, 14, 15];

export function isSupportedAlgorithm(algorithm: number): boolean {
  return SUPPORTED_ALGORITHMS.includes(algorithm);
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** RFC 3110: a one-octet exponent length (or zero and two octets), the exponent, then the modulus. */
function rsaKey(key: Buffer): KeyObject {
  const long = key[0] === 0;
  const expLength = long ? key.readUInt16BE(1) : key[0]!;
  const start = long ? 3 : 1;
  const e = key.subarray(start, start + expLength);
  const n = key.subarray(start + expLength);
  if (e.length === 0 || n.length === 0) throw new Error('truncated RSA key');
  return createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
}

/** RFC 6605: the key is x | y, each half the length. */
function ecKey(key: Buffer, crv: 'P-256' | 'P-384', size: number): KeyObject {
  if (key.length !== 2 * size) throw new Error(`an ${crv} key is ${2 * size} octets, not ${key.length}`);
  return createPublicKey({ key: { kty: 'EC', crv, x: b64url(key.subarray(0, size)), y: b64url(key.subarray(size)) }, format: 'jwk' });
}

/** The DNSKEY as a key object node verifies with; null for a key that does not parse. */
function keyObject(algorithm: number, key: Buffer): KeyObject | null {
  try {
    switch (algorithm) {
      case 8:
        return rsaKey(key);
      case 13:
        return ecKey(key, 'P-256', 32);
      case 14:
        return ecKey(key, 'P-384', 48);
      default:
        return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(key) }, format: 'jwk' });
    }
  } catch {
    return null;
  }
}

// Every answer of a zone is validated from the trust anchor down, so the same DNSKEY and DS RRsets are verified again
// and again: keys are imported once, and a verdict over the same key, data and signature is remembered. Both are
// bounded; a verdict depends on nothing else, so remembering it changes no result.
const CACHE_LIMIT = 4_096;
const keys = new Map<string, KeyObject | null>();
const verdicts = new Map<string, boolean>();

function remember<V>(cache: Map<string, V>, id: string, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(id, value);
  return value;
}

/** How node verifies one algorithm: the digest (none for Ed25519) and the key with its signature encoding. */
function verifyArgs(algorithm: number, object: KeyObject): [string | null, KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' }] {
  const digest = algorithm === 15 ? null : algorithm === 14 ? 'sha384' : 'sha256';
  return [digest, algorithm === 8 || algorithm === 15 ? object : { key: object, dsaEncoding: 'ieee-p1363' }];
}

interface Check {
  verdictId: string;
  known?: boolean;
  object: KeyObject | null;
  sig: Buffer;
}

function prepare(algorithm: number, publicKey: Uint8Array, data: Buffer, signature: Uint8Array): Check {
  if (!isSupportedAlgorithm(algorithm)) throw new Error(`unsupported DNSSEC algorithm ${algorithm}`);
  const key = Buffer.from(publicKey);
  const sig = Buffer.from(signature);
  const keyId = `${algorithm}:${key.toString('base64')}`;
  const verdictId = `${keyId}:${sig.toString('base64')}:${data.toString('base64')}`;
  const known = verdicts.get(verdictId);
  if (known !== undefined) return { verdictId, known, object: null, sig };
  const object = keys.has(keyId) ? keys.get(keyId)! : remember(keys, keyId, keyObject(algorithm, key));
  return { verdictId, object, sig };
}

/**
 * Whether `signature` is a valid signature of `data` by the DNSKEY public key `publicKey` of `algorithm`. A key
 * that does not parse verifies nothing. Throws for an algorithm outside SUPPORTED_ALGORITHMS.
 */
export function verifySignature(algorithm: number, publicKey: Uint8Array, data: Buffer, signature: Uint8Array): boolean {
  const check = prepare(algorithm, publicKey, data, signature);
  if (check.known !== undefined) return check.known;
  let ok = false;
  try {
    if (check.object !== null) {
      const [digest, key] = verifyArgs(algorithm, check.object);
      ok = verify(digest, data, key, check.sig);
    }
  } catch {
    ok = false;
  }
  return remember(verdicts, check.verdictId, ok);
}

/**
 * verifySignature on libuv's thread pool: the check of an answer's own signature, which no earlier answer made, runs
 * beside the resolver's network work instead of in its way (the same verdicts are remembered).
 */
export async function verifySignatureAsync(algorithm: number, publicKey: Uint8Array, data: Buffer, signature: Uint8Array): Promise<boolean> {
  const check = prepare(algorithm, publicKey, data, signature);
  if (check.known !== undefined) return check.known;
  const object = check.object;
  if (object === null) return remember(verdicts, check.verdictId, false);
  const ok = await new Promise<boolean>((resolve) => {
    try {
      const [digest, key] = verifyArgs(algorithm, object);
      verify(digest, data, key, check.sig, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });
  return remember(verdicts, check.verdictId, ok);
}
