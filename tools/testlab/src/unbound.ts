import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomLoopback } from './loopback.js';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, portOpen, run } from './process.js';

export interface UnboundOptions {
  /** named.root-format hints; the lab's (`DnsLab.rootHintsFile`) points it at the fake root. */
  rootHintsFile: string;
  /** Where it listens (port 53); default a random loopback address (Unbound needs no alias for it). */
  address?: string;
  /** Its listening port (53 by default; Pebble's -dnsserver takes any host:port). */
  port?: number;
  /** Upper bound of cached TTLs, so that records changed by a test show soon (README.md#unbound: 5 s). */
  cacheMaxTtl?: number;
  /**
   * A root DS file: Unbound then validates DNSSEC from it as its only trust anchor, as a CA's resolver does, and a
   * bogus answer is SERVFAIL to its clients (Pebble's VA, the ACME double).
   */
  trustAnchorFile?: string;
}

export interface Unbound {
  address: string;
  port: number;
  configFile: string;
  /** Forgets everything cached at and below a zone (`unbound-control flush_zone`). */
  flushZone(zone: string): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Debian's Unbound as a recursive resolver that iterates from the given root hints (README.md#unbound): Pebble's
 * DNS in the issuer tests, and the peer of certsmith's resolver in the benchmark. Foreground, own temp dir.
 */
export async function startUnbound(options: UnboundOptions): Promise<Unbound> {
  await ensurePackages({ '/usr/sbin/unbound': 'unbound' });
  const lab = await labDir('unbound');
  const dir = lab.path;
  const address = options.address ?? randomLoopback();
  const port = options.port ?? 53;
  const configFile = join(dir, 'unbound.conf');
  const control = join(dir, 'control.sock');
  await writeFile(
    configFile,
    `server:
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  num-threads: 1
  interface: ${address}
  port: ${port}
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  outgoing-interface: ${address}
  root-hints: "${options.rootHintsFile}"
  # the lab's servers live on 127.0.0.0/8, which Unbound refuses to ask by default
  do-not-query-localhost: no
  module-config: "${options.trustAnchorFile ? 'validator iterator' : 'iterator'}"
${options.trustAnchorFile ? `  trust-anchor-file: "${options.trustAnchorFile}"\n  val-log-level: 2\n` : ''}  # "test." is one of Unbound's built-in local zones (NXDOMAIN): let it be resolved
  local-zone: "test." nodefault
  cache-max-ttl: ${options.cacheMaxTtl ?? 5}
  cache-max-negative-ttl: 1
remote-control:
  control-enable: yes
  control-interface: ${control}
`,
  );
  const check = await run('unbound-checkconf', [configFile]);
  if (check.code !== 0) {
    await lab.cleanup();
    throw new LabError(`unbound-checkconf rejected the config:\n${check.stdout}${check.stderr}`);
  }
  const server = new ServerProcess(`unbound on ${address}`, '/usr/sbin/unbound', ['-d', '-c', configFile]);
  try {
    await server.waitUntil(() => portOpen(address, port), 20_000);
  } catch (error) {
    await server.stop();
    await lab.cleanup();
    throw error;
  }
  return {
    address,
    port,
    configFile,
    async flushZone(zone) {
      const result = await run('unbound-control', ['-c', configFile, 'flush_zone', zone]);
      if (result.code !== 0) throw new LabError(`unbound-control flush_zone ${zone} failed:\n${result.stderr}${result.stdout}`);
    },
    async stop() {
      await server.stop();
      await lab.cleanup();
    },
    log: () => server.log,
  };
}
