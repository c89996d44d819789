import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, portOpen, run } from './process.js';

export interface DovecotOptions {
  address: string;
  /** PEM files Dovecot reads its certificate and key from (as root, at start and reload). */
  certFile: string;
  keyFile: string;
  ports?: { imap?: number; imaps?: number; pop3?: number; pop3s?: number };
}

export interface Dovecot {
  address: string;
  ports: { imap: number; imaps: number; pop3: number; pop3s: number };
  dir: string;
  configFile: string;
  /** `doveadm reload`: re-reads the certificate files. */
  reload(): Promise<void>;
  reloadCommand: string[];
  stop(): Promise<void>;
  log(): Promise<string>;
}

/** Starts Dovecot (IMAP 143 STARTTLS, IMAPS 993, POP3 110 STARTTLS, POP3S 995) in the foreground on a loopback address. */
export async function startDovecot(options: DovecotOptions): Promise<Dovecot> {
  await ensurePackages({ '/usr/sbin/dovecot': 'dovecot-imapd', '/usr/lib/dovecot/pop3-login': 'dovecot-pop3d' });
  const lab = await labDir('dovecot');
  const dir = lab.path;
  const ports = { imap: 143, imaps: 993, pop3: 110, pop3s: 995, ...options.ports };
  for (const sub of ['run', 'state', 'mail']) await mkdir(join(dir, sub), { recursive: true });
  const configFile = join(dir, 'dovecot.conf');
  // -c replaces /etc/dovecot entirely: everything a certificate test needs is here, nothing else.
  await writeFile(
    configFile,
    `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap pop3
listen = ${options.address}
ssl = yes
ssl_cert = <${options.certFile}
ssl_key = <${options.keyFile}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${dir}/mail/%u
}
mail_location = maildir:~/Maildir
first_valid_uid = 100
service imap-login {
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    port = ${ports.pop3s}
    ssl = yes
  }
}
`,
  );
  const check = await run('/usr/bin/doveconf', ['-c', configFile, '-n']);
  if (check.code !== 0) throw new LabError(`dovecot rejected its config:\n${check.stderr}`);
  const server = new ServerProcess('dovecot', '/usr/sbin/dovecot', ['-c', configFile, '-F']);
  const readLog = () => readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '');
  try {
    await server.waitUntil(async () => {
      for (const port of Object.values(ports)) if (!(await portOpen(options.address, port))) return false;
      return true;
    });
  } catch (error) {
    await server.stop();
    throw new LabError(`${(error as Error).message}\n${await readLog()}`);
  }
  const reloadCommand = ['/usr/bin/doveadm', '-c', configFile, 'reload'];
  return {
    address: options.address,
    ports,
    dir,
    configFile,
    reloadCommand,
    async reload() {
      const result = await run(reloadCommand[0]!, reloadCommand.slice(1));
      if (result.code !== 0) throw new LabError(`dovecot reload failed:\n${result.stderr}\n${await readLog()}`);
    },
    async stop() {
      await server.stop('SIGTERM');
      await lab.cleanup();
    },
    log: readLog,
  };
}
