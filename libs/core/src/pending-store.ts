import { webcrypto } from 'node:crypto';
import { readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyAndCsr, KeySpec, PendingOrder } from './contracts.js';
import { CertsmithError } from './errors.js';
import { writePrivateFileAtomic } from './atomic-file.js';

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
    const data: PendingFile = { order, keyPem: csr.keyPem, csrPem: csr.csrPem, spec: csr.spec };
    const path = this.file(order.target, order.issuer);
    await writePrivateFileAtomic(path, JSON.stringify(data, null, 2));
  }

  /**
   * The saved order with its key and CSR, or null when there is none. A file that is there but cannot be read back
   * (edited by hand into nonsense, truncated) is a PENDING_STATE_INVALID error naming the file and what is wrong.
   */
  async load(target: string, issuer: string): Promise<{ order: PendingOrder; csr: KeyAndCsr } | null> {
    const path = this.file(target, issuer);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CertsmithError(
        'PENDING_STATE_INVALID',
        `the pending-order file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    const invalid = (why: string) => new CertsmithError('PENDING_STATE_INVALID', `the pending-order file ${path} is not usable: ${why}`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw invalid(`not JSON (${(error as Error).message.replace(/\s+/g, ' ')})`);
    }
    const problem = pendingFileProblem(data, target, issuer);
    if (problem) throw invalid(problem);
    const file = data as PendingFile;
    try {
      return { order: file.order, csr: await keyAndCsrFromPem(file.keyPem, file.csrPem, file.spec) };
    } catch (error) {
      throw invalid(`its key or CSR cannot be read back (${(error as Error).message})`);
    }
  }

  /**
   * Every saved order, without its key, for a report (`certsmith status`): reads only, imports no key. A file that
   * cannot be read back is a PENDING_STATE_INVALID error naming it, as for load(); files set aside are not listed.
   */
  async list(): Promise<PendingOrder[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CertsmithError('PENDING_STATE_INVALID', `the pending-order directory ${this.dir} cannot be read (${(error as NodeJS.ErrnoException).code})`);
    }
    const orders: PendingOrder[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const path = join(this.dir, name);
      const invalid = (why: string) => new CertsmithError('PENDING_STATE_INVALID', `the pending-order file ${path} is not usable: ${why}`);
      let data: unknown;
      try {
        data = JSON.parse(await readFile(path, 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // cleared meanwhile
        throw invalid(
          error instanceof SyntaxError ? `not JSON (${error.message.replace(/\s+/g, ' ')})` : `cannot be read (${(error as NodeJS.ErrnoException).code})`,
        );
      }
      const order = (data as { order?: { target?: unknown; issuer?: unknown } } | null)?.order;
      const problem = pendingFileProblem(data, String(order?.target), String(order?.issuer));
      if (problem) throw invalid(problem);
      const file = data as PendingFile;
      if (this.file(file.order.target, file.order.issuer) !== path)
        throw invalid(`"order" is for target "${file.order.target}" and issuer "${file.order.issuer}", which is not what the file name says`);
      orders.push(file.order);
    }
    return orders;
  }

  /** Moves an unusable file aside (`<file>.invalid`, still 0600: it may hold a key) so that the next run starts clean. */
  async setAside(target: string, issuer: string): Promise<string> {
    const path = this.file(target, issuer);
    await rename(path, `${path}.invalid`);
    return `${path}.invalid`;
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
  const publicJwk = spec.type.startsWith('rsa') ? { kty: jwk.kty, n: jwk.n, e: jwk.e } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const publicKey = await webcrypto.subtle.importKey('jwk', publicJwk, algorithm, true, ['verify']);
  return { keys: { privateKey, publicKey }, keyPem, csrDer: new Uint8Array(pemBody(csrPem, 'CERTIFICATE REQUEST')), csrPem, spec };
}

const KEY_TYPES = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

/** What is wrong with a parsed pending-order file, in words, or null when its shape is right. */
function pendingFileProblem(data: unknown, target: string, issuer: string): string | null {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  if (!isObject(data)) return 'not a JSON object';
  const { order, keyPem, csrPem, spec } = data;
  if (!isObject(order)) return '"order" is missing or not an object';
  if (order.target !== target || order.issuer !== issuer)
    return `"order" is for target "${String(order.target)}" and issuer "${String(order.issuer)}", not "${target}" and "${issuer}"`;
  if (typeof order.reference !== 'string' || !order.reference) return '"order.reference" is not a string';
  if (!Array.isArray(order.names) || order.names.length === 0 || !order.names.every((n) => typeof n === 'string' && n))
    return '"order.names" is not a list of names';
  if (!isDate(order.createdAt)) return `"order.createdAt" is not a date (${JSON.stringify(order.createdAt)})`;
  if (order.authorizations !== undefined) {
    if (!Array.isArray(order.authorizations)) return '"order.authorizations" is not a list';
    for (const [i, a] of order.authorizations.entries()) {
      if (!isObject(a) || typeof a.name !== 'string' || typeof a.status !== 'string') return `"order.authorizations[${i}]" has no name or status`;
      if (!isDate(a.since)) return `"order.authorizations[${i}].since" is not a date (${JSON.stringify(a.since)})`;
      if (a.challenge !== undefined && (!isObject(a.challenge) || typeof a.challenge.type !== 'string' || typeof a.challenge.status !== 'string'))
        return `"order.authorizations[${i}].challenge" has no type or status`;
    }
  }
  if (typeof keyPem !== 'string' || typeof csrPem !== 'string') return '"keyPem" or "csrPem" is missing';
  if (!isObject(spec) || !KEY_TYPES.includes(spec.type as string)) return `"spec.type" is not one of ${KEY_TYPES.join(', ')}`;
  return null;
}
