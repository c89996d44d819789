/** A service that serves a certificate: 'cpanel', 'dovecot', 'exim', 'ftp', 'web', or a plugin's own id. */
export type ServiceId = string;

/** Names that share one certificate, and the services that serve it. */
export interface Target {
  /** Stable id, used for state and locks ('hostname' for the server's own target). */
  id: string;
  /** The first name is the primary one (CN). */
  names: string[];
  services: ServiceId[];
  /** The hostname target obeys `disable_auto_hostname_certificate`. */
  kind: 'hostname' | 'site';
}

/** What a certificate says about itself, as every stage and the report show it. */
export interface CertificateSummary {
  subject: string;
  commonName: string | null;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** DNS names and IP addresses of the SAN extension; empty when there is none. */
  names: string[];
  hasSan: boolean;
  /** Key type and size, e.g. 'EC P-256' or 'RSA 2048'. */
  key: string;
  signatureAlgorithm: string;
  /** SHA-256 over the DER, lowercase hex. */
  fingerprint: string;
  selfSigned: boolean;
  /** Extended key usages by name ('serverAuth', ...) or OID; null when the extension is absent. */
  extendedKeyUsage: string[] | null;
}

/**
 * How much a defect matters.
 * - replace: the certificate must go; any issuer, the self-signed fallback included, may replace it.
 * - upgrade: only a CA-signed certificate should replace it (a self-signed one while a CA is configured);
 *   if the CA path fails the current certificate stays (no self-signed churn).
 * - warning: reported and mailed, nothing replaced.
 * - info: shown in verbose output only.
 */
export type DefectSeverity = 'replace' | 'upgrade' | 'warning' | 'info';

export interface Defect {
  /** Stable code, cPanel's where one exists: NO_SSL, ALMOST_EXPIRED, OPENSSL_VERIFY:0:18:..., KEY_MISMATCH, ... */
  code: string;
  /** One line a person can act on. */
  message: string;
  severity: DefectSeverity;
  path?: string;
  /** cPanel's code for the same finding, where it differs from `code` (e.g. OPENSSL_VERIFY:0:18:DEPTH_ZERO_SELF_SIGNED_CERT). */
  cpanel?: string;
  /** The names the finding is about (NAME_MISMATCH: the names the certificate does not cover). */
  names?: string[];
  /** A fault fixed in place, without a new certificate: the file's permission bits are narrowed to `mode`. */
  repair?: { path: string; mode: number };
  /** On a renewal finding: which rule made the certificate due, and since when (ISO 8601). */
  renewal?: { rule: 'ari' | 'lifetime' | 'threshold'; dueAt: string };
}

/** One file a service reads its certificate or key from, as the installer found it. */
export type SourceFile =
  | { path: string; role: SourceRole; bytes: Uint8Array; /** Permission bits, read for files that hold a key. */ mode?: number }
  | { path: string; role: SourceRole; error: 'missing' | 'unreadable'; detail: string };

/** certificate: leaf (+chain); key: private key; chain: CA bundle; combined: key + certificate (+chain). */
export type SourceRole = 'certificate' | 'key' | 'chain' | 'combined';

/** Where the service presents its certificate over the network. */
export interface Endpoint {
  host: string;
  port: number;
  /** Protocol to upgrade with before the handshake; null for implicit TLS. */
  starttls: 'smtp' | 'imap' | 'pop3' | 'ftp' | null;
  /** SNI to send; defaults to the target's first name. */
  servername?: string;
}

/** What an installer reports a service has now: its files and where it serves them. */
export interface ServiceMaterial {
  service: ServiceId;
  sources: SourceFile[];
  endpoints: Endpoint[];
  /**
   * An earlier install of this service was interrupted and the reader, not holding the target's lock, left its
   * recovery alone: the pipeline takes the lock and reads again, and that read finishes the recovery.
   */
  interrupted?: boolean;
}

/** A new certificate with its key, ready to install. PEM text, leaf first. */
export interface NewMaterial {
  certificatePem: string;
  chainPem: string[];
  /** Never logged, printed or mailed. */
  keyPem: string;
  summary: CertificateSummary;
  issuerId: string;
  selfSigned: boolean;
}
