import { randomBytes, webcrypto } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyAndCsr, KeySpec, PendingOrder } from './contracts.js';

/** What a run leaves for the next one when the CA is still working: the order, and the key and CSR it was made for. */
interface PendingFile {
  order: PendingOrder;
  keyPem: string;
  csrPem: string;
  spec: KeySpec;
}

/**
 * Pending orders in the state directory, one file per target and issuer, written atomically with mode 0600
 * (the file holds the certificate's private key).
 */
export class PendingOrderStore {
  constructor(private readonly dir: string) {}

  private file(target: string, issuer: string): string {
    return join(this.dir, `${encodeURIComponent(target)}.${encodeURIComponent(issuer)}.json`);
  }

  async save(order: PendingOrder, csr: KeyAndCsr): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const data: PendingFile = { order, keyPem: csr.keyPem, csrPem: csr.csrPem, spec: csr.spec };
    const path = this.file(order.target, order.issuer);
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(data, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path).catch(async (error: unknown) => {
      await unlink(temp).catch(() => undefined);
      throw error;
    });
  }

  /** The saved order with its key and CSR, or null when there is none (or it cannot be read back). */
  async load(target: string, issuer: string): Promise<{ order: PendingOrder; csr: KeyAndCsr } | null> {
    let data: PendingFile;
    try {
      data = JSON.parse(await readFile(this.file(target, issuer), 'utf8')) as PendingFile;
    } catch {
      return null;
    }
    try {
      return { order: data.order, csr: await keyAndCsrFromPem(data.keyPem, data.csrPem, data.spec) };
    } catch {
      return null;
    }
  }

  async clear(target: string, issuer: string): Promise<void> {
    await unlink(this.file(target, issuer)).catch(() => undefined);
  }
}

function pemBody(pem: string, label: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!match) throw new Error(`no ${label} PEM block`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

/** Rebuilds the key pair (public part from the private JWK) and the CSR of a saved order. */
async function keyAndCsrFromPem(keyPem: string, csrPem: string, spec: KeySpec): Promise<KeyAndCsr> {
  const algorithm = spec.type.startsWith('rsa')
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: spec.type === 'ecdsa-p384' ? 'P-384' : 'P-256' };
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pemBody(keyPem, 'PRIVATE KEY'), algorithm, true, ['sign']);
  const jwk = await webcrypto.subtle.exportKey('jwk', privateKey);
  const publicJwk = spec.type.startsWith('rsa')
    ? { kty: jwk.kty, n: jwk.n, e: jwk.e }
    : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const publicKey = await webcrypto.subtle.importKey('jwk', publicJwk, algorithm, true, ['verify']);
  return { keys: { privateKey, publicKey }, keyPem, csrDer: new Uint8Array(pemBody(csrPem, 'CERTIFICATE REQUEST')), csrPem, spec };
}
