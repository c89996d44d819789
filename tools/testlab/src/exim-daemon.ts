import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, mustRun, portOpen, run } from './process.js';

/** What differs between the lab's two Exim roles (a service under test, a mail receiver). */
export interface EximDaemonSpec {
  /** Names the lab directory and the process in errors (one word). */
  label: string;
  address: string;
  /** Every port it must listen on before it counts as started. */
  ports: number[];
  primaryHostname: string;
  domain: string;
  qualifyDomain?: string;
  /** Lines about TLS (tls_on_connect_ports, tls_advertise_hosts, tls_certificate, ...). */
  tlsLines: (dir: string, gid: number) => Promise<string>;
  /** The body of the RCPT ACL, indented. */
  rcptAcl: string;
  /** Extra appendfile options (envelope_to_add, ...), indented. */
  transportExtra?: string;
  /** An authenticators section, or ''. */
  authenticators?: string;
}

export interface EximDaemon {
  dir: string;
  gid: number;
  configFile: string;
  server: ServerProcess;
  listening(): Promise<boolean>;
  /** Exim's main, reject and panic logs. */
  readLog(): Promise<string>;
  /** Stops the daemon and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Debian's Exim in the foreground on a loopback address, with its own spool, logs and maildir (README.md#exim): the one
 * way both lab roles start it. Exim drops to Debian-exim for deliveries, so its directories belong to that user.
 */
export async function startEximDaemon(spec: EximDaemonSpec): Promise<EximDaemon> {
  await ensurePackages({ '/usr/sbin/exim4': 'exim4-daemon-light' });
  if (!spec.address.startsWith('127.')) throw new LabError(`refusing to listen on ${spec.address}: not loopback`);
  const lab = await labDir(spec.label);
  const dir = lab.path;
  const uid = Number((await mustRun('id', ['-u', 'Debian-exim'])).trim());
  const gid = Number((await mustRun('id', ['-g', 'Debian-exim'])).trim());
  await chmod(dir, 0o755);
  for (const sub of ['spool', 'log', 'maildir']) {
    await mkdir(join(dir, sub), { recursive: true });
    await chown(join(dir, sub), uid, gid);
  }
  const a = spec.address;
  const configFile = join(dir, 'exim.conf');
  await writeFile(
    configFile,
    `primary_hostname = ${spec.primaryHostname}
domainlist local_domains = ${spec.domain}
${spec.qualifyDomain ? `qualify_domain = ${spec.qualifyDomain}\n` : ''}spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog
pid_file_path = ${dir}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
local_interfaces = <; ${spec.ports.map((p) => `${a}.${p}`).join(' ; ')}
${await spec.tlsLines(dir, gid)}host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
${spec.rcptAcl}begin routers
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
${spec.transportExtra ?? ''}  user = Debian-exim
  group = Debian-exim
  mode = 0640
begin retry
*  *  F,5m,1m
${spec.authenticators ?? ''}`,
    { mode: 0o644 },
  );
  const check = await run('/usr/sbin/exim4', ['-C', configFile, '-bV']);
  if (check.code !== 0) {
    await lab.cleanup();
    throw new LabError(`exim rejected its config:\n${check.stdout}${check.stderr}`);
  }
  const readLog = async () =>
    (await Promise.all(['mainlog', 'rejectlog', 'paniclog'].map((f) => readFile(join(dir, 'log', f), 'utf8').catch(() => '')))).join('');
  const listening = async () => {
    for (const port of spec.ports) if (!(await portOpen(a, port))) return false;
    return true;
  };
  const server = new ServerProcess(spec.label, '/usr/sbin/exim4', ['-C', configFile, '-bdf', '-q30m']);
  try {
    await server.waitUntil(listening);
  } catch (error) {
    await server.stop();
    throw new LabError(`${(error as Error).message}\n${await readLog()}`);
  }
  return {
    dir,
    gid,
    configFile,
    server,
    listening,
    readLog,
    async stop() {
      await server.stop('SIGTERM');
      await lab.cleanup();
    },
  };
}
