import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodedNames } from './der.js';
import { parsePem } from './pem.js';
import { SYSTEM_BUNDLE, TrustStore } from './trust-store.js';

const bundle = parsePem(readFileSync(SYSTEM_BUNDLE, 'latin1')).filter((b) => b.label === 'CERTIFICATE');

describe('TrustStore index', () => {
  it('has the system bundle to test with', () => {
    expect(bundle.length).toBeGreaterThan(50);
  });

  it('slices the same issuer and subject fields OpenSSL reads, for every root of the system bundle', () => {
    for (const { der } of bundle) {
      const names = encodedNames(der);
      expect(names).not.toBeNull();
      const x509 = new X509Certificate(der);
      // A root names itself: its two encoded fields are equal exactly when node says its subject is its issuer.
      expect(Buffer.from(names!.issuer).equals(Buffer.from(names!.subject))).toBe(x509.subject === x509.issuer);
      expect(names!.subject[0]).toBe(0x30);
    }
  });

  it('finds every root by its encoded subject, by its subject text and by its fingerprint', () => {
    const store = new TrustStore({ file: SYSTEM_BUNDLE });
    for (const { der } of bundle) {
      const x509 = new X509Certificate(der);
      expect(store.hasSubjectDer(encodedNames(der)!.subject)).toBe(true);
      expect(store.bySubjectName(x509.subject).length).toBeGreaterThan(0);
      expect(store.contains(x509)).toBe(true);
    }
  });

  it('does not find a name or a certificate it does not hold', () => {
    const [first, second] = bundle;
    const store = new TrustStore({ pems: [`-----BEGIN CERTIFICATE-----\n${first!.der.toString('base64')}\n-----END CERTIFICATE-----\n`] });
    const other = new X509Certificate(second!.der);
    expect(store.hasSubjectDer(encodedNames(second!.der)!.subject)).toBe(false);
    expect(store.contains(other)).toBe(false);
    expect(store.pems).toHaveLength(1);
  });

  it('reads nothing but a certificate shape', () => {
    expect(encodedNames(Buffer.from('not DER'))).toBeNull();
    expect(encodedNames(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]))).toBeNull();
  });
});
