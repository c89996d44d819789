// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const HOUR = 3_600_000;

/** What the issuing double's CA puts in a leaf. */
export interface LeafRequest {
  names: string[];
  /** The CSR's subject public key. */
  publicKey: x509.PublicKey;
  notBefore: Date;
  lifetimeHours: number;
  /** No subject at all: the names live only in a critical SAN (Let's Encrypt's tlsserver and shortlived). */
  emptySubject: boolean;
}

export interface Leaf {
  pem: string;
  notBefore: Date;
  notAfter: Date;
  /** RFC 9773's certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial content bytes). */
  certId: string;
}

/**
 * The double's own two-level CA, made in memory with WebCrypto (no openssl process per certificate): a root and an
 * intermediate that signs the leaves, both valid for years around the test's clock.
 */
export class DoubleCa {
  private constructor(
    readonly rootPem: string,
    readonly intermediatePem: string,
    readonly intermediateName: string,
    private readonly intermediate: x509.X509Certificate,
    private readonly signingKey: webcrypto.CryptoKey,
  ) {}

  static async create(label: string, around: Date): Promise<DoubleCa> {
    const notBefore = new Date(Math.min(around.getTime(), Date.now()) - 400 * 24 * HOUR);
    const notAfter = new Date(Math.max(around.getTime(), Date.now()) + 10 * 365 * 24 * HOUR);
    const rootKeys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${label} Root`,
      notBefore,
      notAfter,
      keys: rootKeys,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    const subKeys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
    const intermediateName = `${label} Intermediate`;
    const intermediate = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${intermediateName}`,
      issuer: root.subject,
      notBefore,
      notAfter,
      publicKey: subKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(subKeys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    return new DoubleCa(root.toString('pem'), intermediate.toString('pem'), intermediateName, intermediate, subKeys.privateKey);
  }

  async issue(request: LeafRequest): Promise<Leaf> {
    const notAfter = new Date(request.notBefore.getTime() + request.lifetimeHours * HOUR);
    const rsa = /RSA/i.test(request.publicKey.algorithm.name);
    const usage = x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: request.emptySubject ? '' : `CN=${request.names[0]}`,
      issuer: this.intermediate.subject,
      notBefore: request.notBefore,
      notAfter,
      publicKey: request.publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(usage, true),
        new x509.ExtendedKeyUsageExtension([SERVER_AUTH]),
        // RFC 5280 section 4.2.1.6: with an empty subject the SAN must be critical.
        new x509.SubjectAlternativeNameExtension(
          request.names.map((value) => ({ type: 'dns' as const, value })),
          request.emptySubject,
        ),
        await x509.AuthorityKeyIdentifierExtension.create(this.intermediate, false),
        await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
      ],
    });
    const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId!;
    const certId = `${Buffer.from(aki, 'hex').toString('base64url')}.${Buffer.from(leaf.serialNumber, 'hex').toString('base64url')}`;
    return { pem: `${leaf.toString('pem')}\n`, notBefore: leaf.notBefore, notAfter: leaf.notAfter, certId };
  }
}

/** A positive 16-byte serial whose DER content bytes are exactly these (no leading zero needed). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

/** The DNS names a PKCS#10 request asks for (its SAN, plus a subject CN not already there), and its public key. */
export async function readCsr(der: Buffer): Promise<{ names: string[]; publicKey: x509.PublicKey }> {
  const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(der));
  if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const names = (san?.names.items ?? []).filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase());
  const cn = csr.subjectName.getField('CN')[0]?.toLowerCase();
  if (cn && !names.includes(cn)) names.unshift(cn);
  return { names, publicKey: csr.publicKey };
}
