import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, privateKey, selfSignedCert, type LabCa } from './certs.js';
import { labDir, run } from './process.js';

describe('lab certificates (openssl CLI)', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let root: LabCa;
  let sub: LabCa;
  beforeAll(async () => {
    dir = await labDir('certs');
    root = await createCa(join(dir.path, 'root'), { cn: 'Lab Root' });
    sub = await root.intermediate('inter', { cn: 'Lab Intermediate' });
  });
  afterAll(() => dir?.cleanup());

  it('issues a leaf that verifies through the intermediate to the root', async () => {
    const leaf = await sub.issue('good', { cn: 'www.example.test', san: ['www.example.test', 'example.test'], days: 10 });
    const chain = join(dir.path, 'chain.pem');
    await writeFile(chain, sub.certPem);
    const verify = await run('openssl', ['verify', '-CAfile', root.certFile, '-untrusted', chain, leaf.certFile]);
    expect(verify.stdout + verify.stderr).toContain(': OK');
    const x = new X509Certificate(leaf.certPem);
    expect(x.subjectAltName).toBe('DNS:www.example.test, DNS:example.test');
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const days = (new Date(x.validTo).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(9.9);
    expect(days).toBeLessThan(10.1);
    expect(x.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
  });

  it('makes the weak and odd variants the inspection tests need', async () => {
    const sha1 = await root.issue('sha1', { md: 'sha1' });
    const text = (await run('openssl', ['x509', '-in', sha1.certFile, '-noout', '-text'])).stdout;
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA1');
    const rsa = new X509Certificate((await root.issue('rsa1024', { key: 'rsa-1024' })).certPem);
    expect(rsa.publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024);
    expect(new X509Certificate((await root.issue('nosan', { san: null })).certPem).subjectAltName).toBeUndefined();
    expect(new X509Certificate((await root.issue('noeku', { eku: null })).certPem).keyUsage).toBeUndefined();
    const expired = new X509Certificate((await root.issue('expired', { notBefore: new Date('2020-01-01'), notAfter: new Date('2020-02-01') })).certPem);
    expect(new Date(expired.validTo).getTime()).toBe(Date.parse('2020-02-01T00:00:00Z'));
    const self = await selfSignedCert(join(dir.path, 'self'), 'self', { cn: 'host.example.test' });
    const x = new X509Certificate(self.certPem);
    expect(x.verify(x.publicKey)).toBe(true);
    expect((await privateKey(join(dir.path, 'other.key'))).startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
  });

  it('keeps revocations in index.txt and writes a CRL that lists them', async () => {
    const victim = await root.issue('victim');
    await root.revoke(victim);
    expect(await readFile(join(root.dir, 'index.txt'), 'utf8')).toMatch(new RegExp(`^R\\t.*\\t${victim.serial}\\t`, 'm'));
    const crl = join(dir.path, 'root.crl');
    await root.crl(crl);
    const text = (await run('openssl', ['crl', '-inform', 'DER', '-in', crl, '-noout', '-text'])).stdout;
    expect(text).toContain(`Serial Number: ${victim.serial}`);
  });
});
