import { KeyObject, createPrivateKey, webcrypto } from 'node:crypto';
import type { CsrFactory, KeyAndCsr, KeySpec } from '@certsmith/core';
import { csrDer } from './csr-der.js';
import { peculiarX509 } from './peculiar.js';
import { toPem } from './pem.js';

/** WebCrypto parameters for a key type: generation and signing. */
export function algorithmOf(spec: KeySpec): { generate: RsaHashedKeyGenParams | EcKeyGenParams; sign: Algorithm | EcdsaParams } {
  switch (spec.type) {
    case 'ecdsa-p256':
      return { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
    case 'ecdsa-p384':
      return { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams };
    default: {
      const bits = Number(spec.type.slice(4));
      return {
        generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        sign: { name: 'RSASSA-PKCS1-v1_5' },
      };
    }
  }
}

export async function generateKeys(spec: KeySpec): Promise<{ keys: CryptoKeyPair; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(algorithmOf(spec).generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return { keys, keyPem: toPem('PRIVATE KEY', new Uint8Array(pkcs8)) };
}

/** A fresh key and a CSR with every name in the SAN (the first also as CN). */
export class WebCryptoCsrFactory implements CsrFactory {
  async create(names: string[], spec: KeySpec): Promise<KeyAndCsr> {
    const { keys, keyPem } = await generateKeys(spec);
    const der = csrDer(names, spec, KeyObject.from(keys.privateKey as webcrypto.CryptoKey), KeyObject.from(keys.publicKey as webcrypto.CryptoKey));
    return { keys: keys as unknown as KeyAndCsr['keys'], keyPem, csrDer: der, csrPem: toPem('CERTIFICATE REQUEST', der), spec };
  }
}

export interface SelfSignedOptions {
  names: string[];
  keys: CryptoKeyPair;
  spec: KeySpec;
  validityDays: number;
  now: Date;
}

/**
 * A self-signed server certificate as cPanel makes one: CN = the hostname, every name in the SAN,
 * serverAuth, key usage right for the key type, not a CA.
 */
export async function createSelfSigned(options: SelfSignedOptions): Promise<string> {
  const { names, keys, spec, validityDays, now } = options;
  const x509 = await peculiarX509();
  const serial = webcrypto.getRandomValues(new Uint8Array(16));
  serial[0] = serial[0]! & 0x7f; // positive
  const usage = spec.type.startsWith('rsa') ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
  const notBefore = new Date(now.getTime() - 60_000); // tolerate a little clock skew between hosts
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(serial).toString('hex'),
    name: [{ CN: [names[0]!] }, { E: [`ssl@${names[0]}`] }],
    notBefore,
    notAfter: new Date(now.getTime() + validityDays * 86_400_000),
    signingAlgorithm: algorithmOf(spec).sign,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return cert.toString('pem') + '\n';
}

/**
 * The private key of a PEM, parsed once: the pipeline checks a new certificate against its key, and the installer
 * checks it again before writing (OpenSSL's parse is ~0.5 ms on this kind of machine). The last few keys only.
 */
const keyObjects = new Map<string, KeyObject>();
export function privateKeyOf(pem: string): KeyObject {
  let key = keyObjects.get(pem);
  if (!key) {
    key = createPrivateKey(pem);
    keyObjects.set(pem, key);
    if (keyObjects.size > 8) keyObjects.delete(keyObjects.keys().next().value!);
  }
  return key;
}
