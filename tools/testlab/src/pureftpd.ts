import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePackages } from './packages.js';
import { LabError, labDir, run, sleep } from './process.js';

export interface PureFtpdOptions {
  address: string;
  /** Default 21 (AUTH TLS on the control connection). */
  port?: number;
  /** The combined PEM (key, certificate, chain) Pure-FTPd loads at start (`-2 FILE`). */
  certFile: string;
}

export interface PureFtpd {
  address: string;
  port: number;
  dir: string;
  pidFile: string;
  /**
   * Stops and starts the daemon (it has no reload: it reads its certificate only at start and SIGHUP
   * terminates it, README.md#pure-ftpd). Fails when it does not listen again.
   */
  restart(): Promise<void>;
  /** The same restart as an argv, for an installer's reload command; exits non-zero when the daemon does not come back. */
  restartCommand: string[];
  stop(): Promise<void>;
}

/**
 * Starts Pure-FTPd as a daemon (`-B`, pid file) on a loopback address with TLS optional (`-Y 1`). Its logs go
 * to syslog only, which the lab has not, so a start is judged by the port: the error carries the command
 * and the certificate file it was given.
 */
export async function startPureFtpd(options: PureFtpdOptions): Promise<PureFtpd> {
  await ensurePackages({ '/usr/sbin/pure-ftpd': 'pure-ftpd' });
  const lab = await labDir('pureftpd');
  const dir = lab.path;
  const port = options.port ?? 21;
  const pidFile = join(dir, 'pure-ftpd.pid');
  const args = ['-S', `${options.address},${port}`, '-Y', '1', '-2', options.certFile, '-g', pidFile, '-E', '-B'];
  const script = join(dir, 'restart.sh');
  // Stop (TERM, wait for the pid to go), start, wait until the port listens again: what a service manager's restart does.
  await writeFile(
    script,
    `#!/bin/bash
pid=$(cat ${pidFile} 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
fi
/usr/sbin/pure-ftpd ${args.map((a) => `'${a}'`).join(' ')} </dev/null >/dev/null 2>&1
deadline=$(( $(date +%s%N) + 5000000000 ))
while [ "$(date +%s%N)" -lt "$deadline" ]; do
  (exec 3<>/dev/tcp/${options.address}/${port}) 2>/dev/null && exit 0
  sleep 0.05
done
echo "pure-ftpd did not listen on ${options.address}:${port} after a restart (certificate ${options.certFile})" >&2
exit 1
`,
    { mode: 0o755 },
  );
  const restartCommand = ['/bin/bash', script];
  const restart = async () => {
    const result = await run(restartCommand[0]!, restartCommand.slice(1), { timeoutMs: 30_000 });
    if (result.code !== 0) throw new LabError(`pure-ftpd ${args.join(' ')}: ${result.stderr.trim()}`);
  };
  const stop = async () => {
    const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && (await alive(pid)); i++) await sleep(50);
      } catch {
        // already gone
      }
    }
  };
  try {
    await restart();
  } catch (error) {
    await stop();
    await lab.cleanup();
    throw error;
  }
  return {
    address: options.address,
    port,
    dir,
    pidFile,
    restart,
    restartCommand,
    async stop() {
      await stop();
      await lab.cleanup();
    },
  };
}

async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
