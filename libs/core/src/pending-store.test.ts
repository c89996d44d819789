import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
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

  it('refuses a file edited into nonsense with PENDING_STATE_INVALID naming the file, never a key in the message', async () => {
    const store = new PendingOrderStore(join(dir, 'bad'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const order = { issuer: 'acme', target: 'hostname', reference: 'https://ca/order/1', names: ['a.test'], createdAt: '2026-01-01T00:00:00Z' };
    const csr = {
      keys: {} as never,
      keyPem,
      csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAQ==\n-----END CERTIFICATE REQUEST-----\n',
      csrDer: new Uint8Array(),
      spec: { type: 'ecdsa-p256' as const },
    };
    const file = join(dir, 'bad', 'hostname.acme.json');
    const cases: [unknown, string][] = [
      [{ ...order, names: 'a.test' }, '"order.names" is not a list of names'],
      [{ ...order, target: 'site' }, '"order" is for target "site" and issuer "acme", not "hostname" and "acme"'],
      [{ ...order, authorizations: [{ name: 'a.test', status: 'pending', since: 42 }] }, '"order.authorizations[0].since" is not a date (42)'],
      [{ ...order, authorizations: {} }, '"order.authorizations" is not a list'],
    ];
    for (const [bad, why] of cases) {
      await store.save(order, csr);
      const data = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...data, order: bad }));
      await expect(store.load('hostname', 'acme')).rejects.toMatchObject({
        code: 'PENDING_STATE_INVALID',
        message: `the pending-order file ${file} is not usable: ${why}`,
      });
    }
    await store.save(order, csr);
    const data = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...data, keyPem: keyPem.replace(/[A-Za-z]{8}/, '!!!!!!!!') }));
    const error = await store.load('hostname', 'acme').catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'PENDING_STATE_INVALID' });
    expect((error as Error).message).toContain('its key or CSR cannot be read back');
    expect((error as Error).message).not.toContain('PRIVATE KEY-----\n');
    expect(await store.setAside('hostname', 'acme')).toBe(`${file}.invalid`);
    expect(await store.load('hostname', 'acme')).toBeNull();
  });
});

describe('PendingOrderStore.list', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-pending-list-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const csr = { keys: {} as never, keyPem: 'not read', csrPem: 'not read', csrDer: new Uint8Array(), spec: { type: 'ecdsa-p256' as const } };

  it('lists every saved order (target ids with dots too), no key; set-aside files and a missing directory are no orders', async () => {
    expect(await new PendingOrderStore(join(dir, 'none')).list()).toEqual([]);
    const store = new PendingOrderStore(join(dir, 'ok'));
    const a = { issuer: 'acme', target: 'site.a', reference: 'https://ca/order/1', names: ['a.test'], createdAt: '2026-01-01T00:00:00Z' };
    const b = { issuer: 'acme.two', target: 'hostname', reference: 'https://ca/order/2', names: ['h.test'], createdAt: '2026-01-02T00:00:00Z' };
    await store.save(a, csr);
    await store.save(b, csr);
    await writeFile(join(dir, 'ok', 'old.acme.json.invalid'), 'nonsense');
    expect(await store.list()).toEqual([b, a]);
  });

  it('a file edited into nonsense is PENDING_STATE_INVALID naming the file and what is wrong', async () => {
    const store = new PendingOrderStore(join(dir, 'bad'));
    await store.save({ issuer: 'acme', target: 't', reference: 'r', names: ['a.test'], createdAt: '2026-01-01T00:00:00Z' }, csr);
    const file = join(dir, 'bad', 't.acme.json');
    await writeFile(file, '{"order": ');
    await expect(store.list()).rejects.toThrow(new RegExp(`^the pending-order file ${file} is not usable: not JSON \\(`));
    await writeFile(file, JSON.stringify({ order: { issuer: 'acme', target: 't', reference: 'r', names: 'a.test', createdAt: 'x' } }));
    await expect(store.list()).rejects.toMatchObject({
      code: 'PENDING_STATE_INVALID',
      message: `the pending-order file ${file} is not usable: "order.names" is not a list of names`,
    });
    await writeFile(
      join(dir, 'bad', 't.acme.json'),
      JSON.stringify({
        order: { issuer: 'acme', target: 'u', reference: 'r', names: ['a'], createdAt: '2026-01-01T00:00:00Z' },
        keyPem: '',
        csrPem: '',
        spec: { type: 'ecdsa-p256' },
      }),
    );
    await expect(store.list()).rejects.toThrow('"order" is for target "u" and issuer "acme", which is not what the file name says');
  });
});
