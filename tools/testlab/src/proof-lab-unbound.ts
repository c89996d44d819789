import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomLoopback } from './loopback.js';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, portOpen, run } from './process.js';

export interface ValidatingUnbound {
  address: string;
  stop(): Promise<void>;
}

/**
 * Debian's Unbound as a validating recursive resolver over a signed lab tree, with that tree's root DS as its only
 * trust anchor: what a CA's resolver is. A bogus answer is SERVFAIL to its clients (Pebble's VA, the double).
 */
export async function startValidatingUnbound(options: { rootHintsFile: string; trustAnchorDsFile: string }): Promise<ValidatingUnbound> {
  await ensurePackages({ '/usr/sbin/unbound': 'unbound' });
  const lab = await labDir('unbound-validating');
  const dir = lab.path;
  const address = randomLoopback();
  const configFile = join(dir, 'unbound.conf');
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
  val-log-level: 2
  num-threads: 1
  interface: ${address}
  port: 53
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  outgoing-interface: ${address}
  root-hints: "${options.rootHintsFile}"
  do-not-query-localhost: no
  module-config: "validator iterator"
  trust-anchor-file: "${options.trustAnchorDsFile}"
  local-zone: "test." nodefault
  cache-max-ttl: 1
  cache-max-negative-ttl: 1
`,
  );
  const check = await run('unbound-checkconf', [configFile]);
  if (check.code !== 0) {
    await lab.cleanup();
    throw new LabError(`unbound-checkconf rejected the validating config:\n${check.stdout}${check.stderr}`);
  }
  const server = new ServerProcess(`validating unbound on ${address}`, '/usr/sbin/unbound', ['-d', '-c', configFile]);
  try {
    await server.waitUntil(() => portOpen(address, 53), 20_000);
  } catch (error) {
    await server.stop();
    await lab.cleanup();
    throw error;
  }
  return {
    address,
    async stop() {
      await server.stop();
      await lab.cleanup();
    },
  };
}
