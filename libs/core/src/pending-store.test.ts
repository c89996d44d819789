import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PendingOrderStore } from './pending-store.js';

describe('PendingOrderStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-pending-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the order with its key and CSR in a 0600 file and gives back a key pair that signs and verifies', async () => {
    const store = new PendingOrderStore(join(dir, 'pending'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const csrPem = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from('csr-bytes').toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const order = { issuer: 'acme', target: 'hostname', reference: 'https://ca/order/1', names: ['a.test'], createdAt: '2026-01-01T00:00:00Z' };
    await store.save(order, { keys: {} as never, keyPem, csrPem, csrDer: new Uint8Array(), spec: { type: 'ecdsa-p256' } });
    const files = await readdir(join(dir, 'pending'));
    expect(files).toEqual(['hostname.acme.json']);
    expect((await stat(join(dir, 'pending', files[0]!))).mode & 0o777).toBe(0o600);
    const loaded = await store.load('hostname', 'acme');
    expect(loaded?.order).toEqual(order);
    expect(Buffer.from(loaded!.csr.csrDer).toString()).toBe('csr-bytes');
    const algorithm = { name: 'ECDSA', hash: 'SHA-256' };
    const signature = await webcrypto.subtle.sign(algorithm, loaded!.csr.keys.privateKey, Buffer.from('x'));
    expect(await webcrypto.subtle.verify(algorithm, loaded!.csr.keys.publicKey, signature, Buffer.from('x'))).toBe(true);
    await store.clear('hostname', 'acme');
    expect(await store.load('hostname', 'acme')).toBeNull();
  });
});
