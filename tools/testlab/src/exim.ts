import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, mustRun, portOpen, run } from './process.js';

export interface EximOptions {
  address: string;
  /** Certificate (+chain) and key PEM; copied into Exim's own dir, readable by the Debian-exim user. */
  certPem: string;
  keyPem: string;
  /**
   * Ports >= 1024 by default: a SIGHUP makes Exim re-exec itself without root when started with -C, and then it
   * can no longer bind ports below 1024 (LAB.md).
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

/** Starts Exim (SMTP and submission with STARTTLS, SMTPS implicit TLS) in the foreground on a loopback address. */
export async function startExim(options: EximOptions): Promise<Exim> {
  await ensurePackages({ '/usr/sbin/exim4': 'exim4-daemon-light' });
  const lab = await labDir('exim');
  const dir = lab.path;
  const ports = { smtp: 2525, submission: 2587, smtps: 4465, ...options.ports };
  const uid = Number((await mustRun('id', ['-u', 'Debian-exim'])).trim());
  const gid = Number((await mustRun('id', ['-g', 'Debian-exim'])).trim());
  await chmod(dir, 0o755);
  for (const sub of ['spool', 'log', 'maildir']) {
    await mkdir(join(dir, sub), { recursive: true });
    await chown(join(dir, sub), uid, gid);
  }
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const writeCertificate = async (certPem: string, keyPem: string) => {
    await writeFile(certFile, certPem, { mode: 0o644 });
    await writeFile(keyFile, keyPem, { mode: 0o640 });
    await chown(keyFile, 0, gid);
  };
  await writeCertificate(options.certPem, options.keyPem);
  const configFile = join(dir, 'exim.conf');
  const a = options.address;
  await writeFile(configFile, `primary_hostname = ${options.primaryHostname ?? 'mail.example.test'}
domainlist local_domains = example.test
spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog
pid_file_path = ${dir}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
local_interfaces = <; ${a}.${ports.smtp} ; ${a}.${ports.submission} ; ${a}.${ports.smtps}
tls_on_connect_ports = ${ports.smtps}
tls_advertise_hosts = *
tls_certificate = ${certFile}
tls_privatekey = ${keyFile}
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept domains = +local_domains
  deny message = relay not permitted
begin routers
to_maildir:
  driver = accept
  domains = +local_domains
  transport = maildir_out
begin transports
maildir_out:
  driver = appendfile
  directory = ${dir}/maildir
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim
  mode = 0640
begin retry
*  *  F,5m,1m
`);
  const check = await run('/usr/sbin/exim4', ['-C', configFile, '-bV']);
  if (check.code !== 0) throw new LabError(`exim rejected its config:\n${check.stdout}${check.stderr}`);
  const readLog = async () => `${await readFile(join(dir, 'log/mainlog'), 'utf8').catch(() => '')}${await readFile(join(dir, 'log/paniclog'), 'utf8').catch(() => '')}`;
  const server = new ServerProcess('exim', '/usr/sbin/exim4', ['-C', configFile, '-bdf', '-q30m']);
  const listening = async () => {
    for (const port of Object.values(ports)) if (!(await portOpen(a, port))) return false;
    return true;
  };
  try {
    await server.waitUntil(listening);
  } catch (error) {
    await server.stop();
    throw new LabError(`${(error as Error).message}\n${await readLog()}`);
  }
  return {
    address: a, ports, dir, certFile, keyFile, configFile, writeCertificate,
    async reload() {
      const before = await readLog();
      server.child.kill('SIGHUP');
      // The re-exec'd daemon logs a new start line; then it listens again.
      await server.waitUntil(async () => /daemon started/.test((await readLog()).slice(before.length)) && (await listening()));
    },
    async stop() {
      await server.stop('SIGTERM');
      await lab.cleanup();
    },
    log: readLog,
  };
}
