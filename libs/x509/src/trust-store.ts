import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { readCertificateFields } from './certificate-fields.js';
import { parsePem } from './pem.js';

/** Debian's and most distributions' bundle of the system trust store. */
export const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The certificates a chain must end in. The system bundle by default; SSL_CERT_FILE overrides it as it does for
 * OpenSSL (tests point it at their own CA); node's built-in roots when neither can be read.
 */
export class TrustStore {
  private bySubject: Map<string, { der: Buffer; x509?: X509Certificate }[]> | null = null;
  private fingerprints: Set<string> | null = null;
  private pemList: string[] | null = null;

  constructor(private readonly source: { file?: string; pems?: string[] } = {}) {}

  /** The trust store the environment names (SSL_CERT_FILE, else the system bundle). */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): TrustStore {
    return new TrustStore({ file: env.SSL_CERT_FILE || SYSTEM_BUNDLE });
  }

  /** PEM texts, as tls.connect's `ca` option takes them. */
  get pems(): string[] {
    if (!this.pemList) {
      let pems = this.source.pems ?? null;
      if (!pems && this.source.file) {
        try {
          const text = readFileSync(this.source.file, 'latin1');
          pems = parsePem(text)
            .filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE')
            .map((b) => `-----BEGIN CERTIFICATE-----\n${b.der.toString('base64')}\n-----END CERTIFICATE-----\n`);
        } catch {
          pems = null;
        }
      }
      this.pemList = pems && pems.length ? pems : [...rootCertificates];
    }
    return this.pemList;
  }

  /** Trusted certificates whose subject is this distinguished name (node's multi-line form). */
  bySubjectName(subject: string): X509Certificate[] {
    this.load();
    const entries = this.bySubject!.get(subject);
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

  contains(cert: X509Certificate): boolean {
    return this.containsFingerprint(cert.fingerprint256.replaceAll(':', '').toLowerCase());
  }

  /** By SHA-256 of the DER, lowercase hex. */
  containsFingerprint(sha256: string): boolean {
    this.load();
    return this.fingerprints!.has(sha256);
  }

  /**
   * Indexes the store by subject and fingerprint. Subjects come from the DER reader where it can say them (most
   * roots), node's X509Certificate is built only for the rest and for the certificates a chain actually asks for:
   * every run indexes ~140 roots, and parsing them all cost ~30 ms of each run.
   */
  private load(): void {
    if (this.bySubject) return;
    this.bySubject = new Map();
    this.fingerprints = new Set();
    for (const pem of this.pems) {
      const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
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
      this.fingerprints.add(createHash('sha256').update(der).digest('hex'));
    }
  }
}
