import { chown, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEximDaemon } from './exim-daemon.js';
import { LabError, sleep } from './process.js';

export interface SmtpReceiverOptions {
  address: string;
  /**
   * smtp: plain SMTP, with STARTTLS when `tls` is given; smtps: implicit TLS (only with `tls`).
   * Ports >= 1024: Exim started with -C loses root when it re-execs (README.md#exim), and tests need no root ports.
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
 * A real SMTP server receiving mail for tests: Debian's Exim on a loopback address (README.md#exim),
 * delivering every message for its domain into one maildir that the test reads.
 */
export async function startSmtpReceiver(options: SmtpReceiverOptions): Promise<SmtpReceiver> {
  if (options.auth && !/^[\w.@+-]+$/.test(options.auth.user + options.auth.password)) {
    throw new LabError('the lab SMTP account takes letters, digits and . @ + - _ only (they go into an Exim expansion)');
  }
  const ports = { smtp: options.ports?.smtp ?? 2525, smtps: options.tls ? (options.ports?.smtps ?? 4465) : null };
  const domain = options.domain ?? 'example.test';
  const auth = options.auth;
  const tls = options.tls;
  const daemon = await startEximDaemon({
    label: 'smtp',
    address: options.address,
    ports: [ports.smtp, ports.smtps].filter((p): p is number => p !== null),
    primaryHostname: `mail.${domain}`,
    domain,
    qualifyDomain: domain,
    async tlsLines(dir, gid) {
      if (!tls) return 'tls_advertise_hosts =\n';
      const certFile = join(dir, 'cert.pem');
      const keyFile = join(dir, 'key.pem');
      await writeFile(certFile, await readFile(tls.certFile), { mode: 0o644 });
      await writeFile(keyFile, await readFile(tls.keyFile), { mode: 0o640 });
      await chown(keyFile, 0, gid);
      return `tls_on_connect_ports = ${ports.smtps}\ntls_advertise_hosts = *\ntls_certificate = ${certFile}\ntls_privatekey = ${keyFile}\n`;
    },
    rcptAcl: auth
      ? '  accept domains = +local_domains\n          authenticated = *\n  deny message = authentication required\n'
      : '  accept domains = +local_domains\n  deny message = relay not permitted\n',
    transportExtra: '  envelope_to_add\n  return_path_add\n  delivery_date_add\n',
    authenticators: auth
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
      : '',
  });
  const { dir, configFile, readLog } = daemon;

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
    address: options.address,
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
    stop: daemon.stop,
    log: readLog,
  };
}
