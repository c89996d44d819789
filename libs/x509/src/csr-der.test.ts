import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { KeySpec } from '@certsmith/core';
import { WebCryptoCsrFactory } from './index.js';

/** OpenSSL's reading of a CSR: its text, and whether the self-signature verifies. */
function openssl(pem: string): { text: string; verified: boolean } {
  const out = spawnSync('openssl', ['req', '-verify', '-noout', '-text', '-nameopt', 'RFC2253'], { input: pem, encoding: 'utf8' });
  if (out.error) throw out.error;
  return { text: out.stdout, verified: out.status === 0 && /verify OK/.test(out.stderr) };
}

describe('the CSR written in DER', () => {
  const many = Array.from({ length: 12 }, (_, i) => `name-${i}.a-rather-long-label-to-pass-the-short-length-forms.example.test`);
  for (const type of ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as KeySpec['type'][]) {
    it(`${type}: CN = the first name, every name in the SAN, a self-signature OpenSSL verifies`, async () => {
      const names = ['a.example.test', 'www.a.example.test', ...many];
      const made = await new WebCryptoCsrFactory().create(names, { type });
      expect(made.csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
      expect(Buffer.from(made.csrPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')).toEqual(Buffer.from(made.csrDer));
      const { text, verified } = openssl(made.csrPem);
      expect(verified).toBe(true);
      expect(text).toMatch(/Subject: CN=a\.example\.test\n/);
      const san = /DNS:.*/
        .exec(text)![0]
        .split(', ')
        .map((n) => n.replace(/^DNS:/, ''));
      expect(san).toEqual(names);
      expect(text).toContain(type.startsWith('rsa') ? 'sha256WithRSAEncryption' : type === 'ecdsa-p384' ? 'ecdsa-with-SHA384' : 'ecdsa-with-SHA256');
    });
  }

  it('a wildcard first name goes into the CN as UTF8String (PrintableString has no "*")', async () => {
    const made = await new WebCryptoCsrFactory().create(['*.example.test', 'example.test'], { type: 'ecdsa-p256' });
    const { text, verified } = openssl(made.csrPem);
    expect(verified).toBe(true);
    expect(text).toMatch(/Subject: CN=\*\.example\.test\n/);
    const der = Buffer.from(made.csrDer);
    expect(der[der.indexOf(Buffer.from('*.example.test')) - 2]).toBe(0x0c);
  });
});
