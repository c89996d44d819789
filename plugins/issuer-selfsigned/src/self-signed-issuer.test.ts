import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBus, type KeySpec, type Target } from '@certsmith/core';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { SelfSignedIssuer } from './self-signed-issuer.js';
import { manifest } from './index.js';

const target: Target = { id: 'hostname', names: ['host.example.test', 'mail.example.test'], services: ['exim'], kind: 'hostname' };
const now = new Date('2026-11-25T00:00:00Z');

async function issue(type: KeySpec['type'], validityDays = 365) {
  const csr = await new WebCryptoCsrFactory().create(target.names, { type });
  const issued = await new SelfSignedIssuer({ validityDays }).issue(
    { target, names: target.names, csr },
    { bus: createBus(), dcv: [], clock: { now: () => now }, signal: new AbortController().signal, stateDir: '/nonexistent' },
  );
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: issued.certificatePem, encoding: 'utf8' });
  return { cert: new X509Certificate(issued.certificatePem), keyPem: csr.keyPem, issued, text };
}

describe('SelfSignedIssuer', () => {
  it('makes an ECDSA P-256 server certificate for every name, valid for the configured days', async () => {
    const { cert, keyPem, issued, text } = await issue('ecdsa-p256', 365);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(issued.chainPem).toEqual([]);
    expect(cert.subject).toContain('CN=host.example.test');
    expect(cert.subjectAltName).toBe('DNS:host.example.test, DNS:mail.example.test');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // node names the EKU list "keyUsage": serverAuth only
    expect(cert.ca).toBe(false);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(new Date(cert.validTo).getTime() - now.getTime()).toBe(365 * 86_400_000);
  });

  it.each([
    ['rsa-2048', 2048],
    ['rsa-3072', 3072],
  ] as const)(
    'makes %s certificates with digitalSignature and keyEncipherment',
    async (type, bits) => {
      const { cert, keyPem, text } = await issue(type, 30);
      expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(bits);
      expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
      expect(cert.toLegacyObject().ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1']);
    },
    60_000,
  );

  it('declares options that the config can set and that are checked', () => {
    expect(manifest.apiVersion).toBe(1);
    expect(manifest.optionsSchema).toMatchObject({ properties: { validityDays: { type: 'integer' } } });
  });
});
