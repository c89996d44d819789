import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { readCertificateFields } from './certificate-fields.js';
import { encodedNames } from './der.js';
import { parsePem } from './pem.js';

/** Debian's and most distributions' bundle of the system trust store. */
export const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The certificates a chain must end in. The system bundle by default; SSL_CERT_FILE overrides it as it does for
 * OpenSSL (tests point it at their own CA); node's built-in roots when neither can be read.
 */
export class TrustStore {
  private ders: Buffer[] | null = null;
  private pemList: string[] | null = null;
  private fingerprints: Set<string> | null = null;
  private rawSubjects: Set<string> | null = null;
  private bySubject: Map<string, { der: Buffer; x509?: X509Certificate }[]> | null = null;

  constructor(private readonly source: { file?: string; pems?: string[] } = {}) {}

  /** The trust store the environment names (SSL_CERT_FILE, else the system bundle). */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): TrustStore {
    return new TrustStore({ file: env.SSL_CERT_FILE || SYSTEM_BUNDLE });
  }

  /** PEM texts, as tls.connect's `ca` option takes them. */
  get pems(): string[] {
    this.pemList ??= this.source.pems?.length
      ? this.source.pems
      : this.certificates().map((der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`);
    return this.pemList;
  }

  /** Trusted certificates whose subject is this distinguished name (node's multi-line form). */
  bySubjectName(subject: string): X509Certificate[] {
    const entries = this.subjectIndex().get(subject);
    if (!entries) return [];
    const out: X509Certificate[] = [];
    for (const entry of entries) {
      try {
        out.push((entry.x509 ??= new X509Certificate(entry.der)));
      } catch {
        // a damaged entry the DER reader indexed but OpenSSL refuses: as if it were not in the bundle
      }
    }
    return out;
  }

  /**
   * Whether a trusted certificate's subject is this encoded Name, byte for byte (a certificate's issuer field as it
   * is in its DER). Cheaper than bySubjectName: no certificate of the store is parsed beyond its TBS header.
   */
  hasSubjectDer(name: Uint8Array): boolean {
    this.index();
    return this.rawSubjects!.has(Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1'));
  }

  contains(cert: X509Certificate): boolean {
    return this.containsFingerprint(cert.fingerprint256.replaceAll(':', '').toLowerCase());
  }

  /** By SHA-256 of the DER, lowercase hex. */
  containsFingerprint(sha256: string): boolean {
    this.index();
    return this.fingerprints!.has(sha256);
  }

  /** The store's certificates as DER: the file's blocks, else the PEMs given, else node's built-in roots. */
  private certificates(): Buffer[] {
    if (this.ders) return this.ders;
    let ders: Buffer[] | null = null;
    if (this.source.pems) ders = this.source.pems.map((pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
    else if (this.source.file) {
      try {
        const text = readFileSync(this.source.file, 'latin1');
        ders = parsePem(text)
          .filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE')
          .map((b) => b.der);
      } catch {
        ders = null;
      }
    }
    if (!ders?.length) ders = rootCertificates.map((pem) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
    this.ders = ders;
    return ders;
  }

  /**
   * Fingerprints and encoded subjects of every certificate: what a healthy run asks (is this leaf trusted, does a
   * trusted certificate name its issuer). Reading ~140 roots' subjects as text cost ~60 ms of each run; hashing them
   * and slicing out their subject field costs about 2 ms.
   */
  private index(): void {
    if (this.fingerprints) return;
    this.fingerprints = new Set();
    this.rawSubjects = new Set();
    for (const der of this.certificates()) {
      this.fingerprints.add(createHash('sha256').update(der).digest('hex'));
      const names = encodedNames(der);
      if (names) this.rawSubjects.add(Buffer.from(names.subject).toString('latin1'));
    }
  }

  /**
   * The store by subject text, for building chains. Subjects come from the DER reader where it can say them (most
   * roots); node's X509Certificate is built only for the rest and for the certificates a chain actually asks for.
   */
  private subjectIndex(): Map<string, { der: Buffer; x509?: X509Certificate }[]> {
    if (this.bySubject) return this.bySubject;
    this.bySubject = new Map();
    for (const der of this.certificates()) {
      let subject = readCertificateFields(der, false)?.subject;
      let x509: X509Certificate | undefined;
      if (subject === undefined) {
        try {
          x509 = new X509Certificate(der);
          subject = x509.subject;
        } catch {
          continue; // one bad entry in a bundle must not hide the others
        }
      }
      const list = this.bySubject.get(subject) ?? [];
      list.push({ der, x509 });
      this.bySubject.set(subject, list);
    }
    return this.bySubject;
  }
}
