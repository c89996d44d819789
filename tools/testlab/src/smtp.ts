import { chmod, chown, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, mustRun, portOpen, run, sleep } from './process.js';

export interface SmtpReceiverOptions {
  address: string;
  /**
   * smtp: plain SMTP, with STARTTLS when `tls` is given; smtps: implicit TLS (only with `tls`).
   * Ports >= 1024: Exim started with -C loses root when it re-execs (LAB.md), and tests need no root ports.
   */
  ports?: { smtp?: number; smtps?: number };
  /** Certificate and key files the server presents (copied into its own directory). */
  tls?: { certFile: string; keyFile: string };
  /** When given, the server offers AUTH PLAIN/LOGIN for this one account and accepts mail only after it. */
  auth?: { user: string; password: string };
  /** The domain it accepts mail for (default example.test); everything lands in one maildir. */
  domain?: string;
}

export interface SmtpReceiver {
  address: string;
  ports: { smtp: number; smtps: number | null };
  dir: string;
  configFile: string;
  /** The installed sendmail-compatible binary with this receiver's config: local submission delivers to the same maildir. */
  sendmail: { path: string; args: string[] };
  /** Raw messages delivered so far, oldest first. */
  messages(): Promise<string[]>;
  /** Waits until at least `count` messages were delivered; fails with Exim's log when they do not come. */
  waitForMessages(count: number, timeoutMs?: number): Promise<string[]>;
  /** Empties the maildir. */
  clear(): Promise<void>;
  stop(): Promise<void>;
  /** Exim's main, reject and panic logs. */
  log(): Promise<string>;
}

/**
 * A real SMTP server receiving mail for tests: Debian's Exim on a loopback address (LAB.md sections 3 and 9),
 * delivering every message for its domain into one maildir that the test reads.
 */
export async function startSmtpReceiver(options: SmtpReceiverOptions): Promise<SmtpReceiver> {
  await ensurePackages({ '/usr/sbin/exim4': 'exim4-daemon-light' });
  if (!options.address.startsWith('127.')) throw new LabError(`refusing to listen on ${options.address}: not loopback`);
  if (options.auth && !/^[\w.@+-]+$/.test(options.auth.user + options.auth.password)) {
    throw new LabError('the lab SMTP account takes letters, digits and . @ + - _ only (they go into an Exim expansion)');
  }
  const lab = await labDir('smtp');
  const dir = lab.path;
  const ports = { smtp: options.ports?.smtp ?? 2525, smtps: options.tls ? (options.ports?.smtps ?? 4465) : null };
  const uid = Number((await mustRun('id', ['-u', 'Debian-exim'])).trim());
  const gid = Number((await mustRun('id', ['-g', 'Debian-exim'])).trim());
  // Exim drops to Debian-exim for deliveries and for local submissions with -C: it must reach its files.
  await chmod(dir, 0o755);
  for (const sub of ['spool', 'log', 'maildir']) {
    await mkdir(join(dir, sub), { recursive: true });
    await chown(join(dir, sub), uid, gid);
  }
  let tlsLines = 'tls_advertise_hosts =\n';
  if (options.tls) {
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    await writeFile(certFile, await readFile(options.tls.certFile), { mode: 0o644 });
    await writeFile(keyFile, await readFile(options.tls.keyFile), { mode: 0o640 });
    await chown(keyFile, 0, gid);
    tlsLines = `tls_on_connect_ports = ${ports.smtps}\ntls_advertise_hosts = *\ntls_certificate = ${certFile}\ntls_privatekey = ${keyFile}\n`;
  }
  const a = options.address;
  const domain = options.domain ?? 'example.test';
  const listen = [ports.smtp, ports.smtps].filter((p): p is number => p !== null).map((p) => `${a}.${p}`).join(' ; ');
  const auth = options.auth;
  const rcptAcl = auth
    ? '  accept domains = +local_domains\n          authenticated = *\n  deny message = authentication required\n'
    : '  accept domains = +local_domains\n  deny message = relay not permitted\n';
  const authenticators = auth
    ? `begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{$auth2}{${auth.user}}}{eq{$auth3}{${auth.password}}}}}
  server_set_id = $auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and {{eq{$auth1}{${auth.user}}}{eq{$auth2}{${auth.password}}}}}
  server_set_id = $auth1
`
    : '';
  const configFile = join(dir, 'exim.conf');
  await writeFile(configFile, `primary_hostname = mail.${domain}
domainlist local_domains = ${domain}
qualify_domain = ${domain}
spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog
pid_file_path = ${dir}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
keep_environment =
local_interfaces = <; ${listen}
${tlsLines}host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
${rcptAcl}begin routers
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
  envelope_to_add
  return_path_add
  delivery_date_add
  user = Debian-exim
  group = Debian-exim
  mode = 0640
begin retry
*  *  F,5m,1m
${authenticators}`, { mode: 0o644 });
  const check = await run('/usr/sbin/exim4', ['-C', configFile, '-bV']);
  if (check.code !== 0) throw new LabError(`exim rejected its config:\n${check.stdout}${check.stderr}`);
  const readLog = async () => (await Promise.all(['mainlog', 'rejectlog', 'paniclog'].map((f) => readFile(join(dir, 'log', f), 'utf8').catch(() => '')))).join('');
  const server = new ServerProcess('exim (SMTP receiver)', '/usr/sbin/exim4', ['-C', configFile, '-bdf', '-q30m']);
  try {
    await server.waitUntil(async () => {
      for (const port of [ports.smtp, ports.smtps]) if (port !== null && !(await portOpen(a, port))) return false;
      return true;
    });
  } catch (error) {
    await server.stop();
    throw new LabError(`${(error as Error).message}\n${await readLog()}`);
  }

  const maildir = join(dir, 'maildir');
  const messages = async () => {
    const out: { name: string; text: string }[] = [];
    for (const sub of ['new', 'cur']) {
      const names = await readdir(join(maildir, sub)).catch(() => [] as string[]);
      for (const name of names) out.push({ name, text: await readFile(join(maildir, sub, name), 'utf8') });
    }
    // Maildir names start with the delivery time in seconds, then a sequence: sorting keeps the order.
    return out.sort((x, y) => x.name.localeCompare(y.name, 'en', { numeric: true })).map((m) => m.text);
  };
  return {
    address: a,
    ports,
    dir,
    configFile,
    sendmail: { path: '/usr/sbin/exim4', args: ['-C', configFile, '-odi'] },
    messages,
    async waitForMessages(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await messages();
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new LabError(`expected ${count} message(s) in ${maildir}, got ${got.length}; exim log:\n${await readLog()}`);
        await sleep(100);
      }
    },
    async clear() {
      for (const sub of ['new', 'cur', 'tmp']) await rm(join(maildir, sub), { recursive: true, force: true });
    },
    async stop() {
      await server.stop('SIGTERM');
      await lab.cleanup();
    },
    log: readLog,
  };
}
