import { chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEximDaemon } from './exim-daemon.js';

export interface EximOptions {
  address: string;
  /** Certificate (+chain) and key PEM; copied into Exim's own dir, readable by the Debian-exim user. */
  certPem: string;
  keyPem: string;
  /**
   * Ports >= 1024 by default: a SIGHUP makes Exim re-exec itself without root when started with -C, and then it
   * can no longer bind ports below 1024 (README.md#exim).
   */
  ports?: { smtp?: number; submission?: number; smtps?: number };
  primaryHostname?: string;
}

export interface Exim {
  address: string;
  ports: { smtp: number; submission: number; smtps: number };
  dir: string;
  certFile: string;
  keyFile: string;
  configFile: string;
  /** Writes new files without telling Exim (it keeps serving what it loaded). */
  writeCertificate(certPem: string, keyPem: string): Promise<void>;
  /** SIGHUP: Exim re-execs and loads the files again; resolves once it listens again. */
  reload(): Promise<void>;
  stop(): Promise<void>;
  log(): Promise<string>;
}

/** Exim as a service under test: SMTP and submission with STARTTLS, SMTPS implicit TLS, on a loopback address. */
export async function startExim(options: EximOptions): Promise<Exim> {
  const ports = { smtp: 2525, submission: 2587, smtps: 4465, ...options.ports };
  let writeCertificate: Exim['writeCertificate'] = async () => undefined;
  let certFile = '';
  let keyFile = '';
  const daemon = await startEximDaemon({
    label: 'exim',
    address: options.address,
    ports: [ports.smtp, ports.submission, ports.smtps],
    primaryHostname: options.primaryHostname ?? 'mail.example.test',
    domain: 'example.test',
    rcptAcl: '  accept domains = +local_domains\n  deny message = relay not permitted\n',
    async tlsLines(dir, gid) {
      certFile = join(dir, 'cert.pem');
      keyFile = join(dir, 'key.pem');
      writeCertificate = async (certPem, keyPem) => {
        await writeFile(certFile, certPem, { mode: 0o644 });
        await writeFile(keyFile, keyPem, { mode: 0o640 });
        await chown(keyFile, 0, gid);
      };
      await writeCertificate(options.certPem, options.keyPem);
      return `tls_on_connect_ports = ${ports.smtps}\ntls_advertise_hosts = *\ntls_certificate = ${certFile}\ntls_privatekey = ${keyFile}\n`;
    },
  });
  return {
    address: options.address,
    ports,
    dir: daemon.dir,
    certFile,
    keyFile,
    configFile: daemon.configFile,
    writeCertificate,
    async reload() {
      const before = await daemon.readLog();
      daemon.server.child.kill('SIGHUP');
      // The re-exec'd daemon logs a new start line; then it listens again.
      await daemon.server.waitUntil(async () => /daemon started/.test((await daemon.readLog()).slice(before.length)) && (await daemon.listening()));
    },
    stop: daemon.stop,
    log: daemon.readLog,
  };
}
