import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, mustRun, portOpen } from './process.js';

export interface PebbleOptions {
  /** Loopback address for the ACME and management listeners (and the fake DNS when none is given). */
  address: string;
  /** Where Pebble's VA fetches http-01 (port on the address a name resolves to). Default 5002. */
  httpPort?: number;
  /** host:port of the DNS server Pebble's VA asks. Default: a pebble-challtestsrv on `address`:8053 that answers every A query with `defaultIPv4`. */
  dnsServer?: string;
  /** The address challtestsrv answers for every name (when dnsServer is not given). Default: `address`. */
  defaultIPv4?: string;
  /** EAB required (default true). */
  eab?: boolean;
  /** The EAB key Pebble knows (default: a fresh random one whose key begins with '-'); fixed to restart "the same CA". */
  eabKey?: { kid: string; hmacKey: string };
  /**
   * Fault injection, passed as environment; the defaults below are set explicitly because Pebble's own defaults
   * reject 5 % of nonces and reuse 50 % of authorizations.
   */
  env?: {
    PEBBLE_VA_NOSLEEP?: string;
    PEBBLE_WFE_NONCEREJECT?: string;
    PEBBLE_AUTHZREUSE?: string;
    PEBBLE_ALTERNATE_ROOTS?: string;
    PEBBLE_CHAIN_LENGTH?: string;
    [k: string]: string | undefined;
  };
}

export interface Pebble {
  address: string;
  directoryUrl: string;
  managementUrl: string;
  httpPort: number;
  /** PEM of the throw-away CA that signed Pebble's TLS certificate: give it to the ACME client. */
  tlsCaFile: string;
  tlsCaPem: string;
  /** The EAB key id and its base64url HMAC key (begins with '-' on purpose: README.md#pebble). */
  eab: { kid: string; hmacKey: string };
  dir: string;
  /** GET on the management interface (e.g. '/roots/0'). */
  management(path: string): Promise<{ status: number; body: string }>;
  /** How many orders Pebble created since it started (counted in its log). */
  orderCount(): number;
  /** How many accounts Pebble created since it started (counted in its log). */
  accountCount(): number;
  /** How many newAccount requests it received, answered or refused (counted in its log). */
  newAccountRequests(): number;
  log(): string;
  stop(): Promise<void>;
}

const DEFAULT_ENV = { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' };

/** Starts Debian's Pebble on a loopback address with a throw-away TLS CA (none ships) and EAB required. */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  await ensurePackages({ '/usr/bin/pebble': 'pebble', '/usr/bin/openssl': 'openssl' });
  const lab = await labDir('pebble');
  const dir = lab.path;
  const { address } = options;
  const httpPort = options.httpPort ?? 5002;
  const tlsCaFile = join(dir, 'tls-ca.crt');
  await mustRun('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Pebble Lab TLS CA',
    '-keyout',
    join(dir, 'tls-ca.key'),
    '-out',
    tlsCaFile,
  ]);
  await mustRun('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=pebble',
    '-keyout',
    join(dir, 'server.key'),
    '-out',
    join(dir, 'server.csr'),
  ]);
  await writeFile(join(dir, 'server.ext'), `subjectAltName=IP:${address},DNS:localhost\nextendedKeyUsage=serverAuth\n`);
  await mustRun('openssl', [
    'x509',
    '-req',
    '-in',
    join(dir, 'server.csr'),
    '-CA',
    tlsCaFile,
    '-CAkey',
    join(dir, 'tls-ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    join(dir, 'server.ext'),
    '-out',
    join(dir, 'server.crt'),
  ]);
  const tlsCaPem = await import('node:fs/promises').then((fs) => fs.readFile(tlsCaFile, 'utf8'));

  // base64url whose first character is '-': the first 6 bits are 62.
  const key = randomBytes(32);
  key[0] = 0xf8 | (key[0]! & 0x03);
  const eab = options.eabKey ?? { kid: `kid-${randomBytes(4).toString('hex')}`, hmacKey: key.toString('base64url') };
  const configFile = join(dir, 'pebble.json');
  await writeFile(
    configFile,
    JSON.stringify(
      {
        pebble: {
          listenAddress: `${address}:14000`,
          managementListenAddress: `${address}:15000`,
          certificate: join(dir, 'server.crt'),
          privateKey: join(dir, 'server.key'),
          httpPort,
          tlsPort: 5001,
          ocspResponderURL: '',
          externalAccountBindingRequired: options.eab ?? true,
          externalAccountMACKeys: { [eab.kid]: eab.hmacKey },
        },
      },
      null,
      2,
    ),
  );
  await chmod(configFile, 0o600);

  let dns: ServerProcess | undefined;
  let dnsServer = options.dnsServer;
  if (!dnsServer) {
    dnsServer = `${address}:8053`;
    dns = new ServerProcess('pebble-challtestsrv', '/usr/bin/pebble-challtestsrv', [
      '-defaultIPv4',
      options.defaultIPv4 ?? address,
      '-defaultIPv6',
      '',
      '-dns01',
      dnsServer,
      '-management',
      `${address}:8055`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
    ]);
    await dns.waitUntil(() => portOpen(address, 8055));
  }
  const env = { ...process.env, ...DEFAULT_ENV, ...options.env };
  const server = new ServerProcess('pebble', '/usr/bin/pebble', ['-config', configFile, '-dnsserver', dnsServer], { cwd: dir, env });
  // Counted from the streams, not from the kept log (which holds only its last 64 KiB).
  let orders = 0;
  let accounts = 0;
  let newAccounts = 0;
  for (const stream of [server.child.stdout, server.child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      orders += lines.filter((line) => /Added order/i.test(line)).length;
      accounts += lines.filter((line) => /There are now \d+ accounts in memory/.test(line)).length;
      newAccounts += lines.filter((line) => /POST \/sign-me-up /.test(line)).length;
    });
  }
  try {
    await server.waitUntil(async () => (await portOpen(address, 14000)) && (await portOpen(address, 15000)));
  } catch (error) {
    await dns?.stop();
    await lab.cleanup();
    throw error;
  }
  const dispatcher = new Agent({ connect: { ca: tlsCaPem } });
  const managementUrl = `https://${address}:15000`;
  return {
    address,
    directoryUrl: `https://${address}:14000/dir`,
    managementUrl,
    httpPort,
    tlsCaFile,
    tlsCaPem,
    eab,
    dir,
    async management(path) {
      const response = await request(`${managementUrl}${path}`, { dispatcher });
      return { status: response.statusCode, body: await response.body.text() };
    },
    orderCount: () => orders,
    accountCount: () => accounts,
    newAccountRequests: () => newAccounts,
    log: () => server.log + (dns ? `\n--- challtestsrv ---\n${dns.log}` : ''),
    async stop() {
      await server.stop();
      await dns?.stop();
      await dispatcher.close();
      await lab.cleanup();
    },
  };
}

/** Fails loudly with Pebble's own output. */
export function pebbleFailure(pebble: Pebble, what: string): LabError {
  return new LabError(`${what}\n--- pebble log ---\n${pebble.log()}`);
}
