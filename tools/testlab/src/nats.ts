import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import { LabError, ServerProcess, labDir, portOpen } from './process.js';
import { freePort } from './ocsp.js';

const NATS_SERVER = '/usr/sbin/nats-server';

export interface NatsOptions {
  /** Turns JetStream on (streams, KV buckets), stored under the server's temp directory. */
  jetstream?: boolean;
  /** Where it listens (default 127.0.0.1). */
  address?: string;
  /** Its client port (default a free one). */
  port?: number;
  /** The largest message a client may publish, headers included (nats-server's `max_payload`; default 1 MB). */
  maxPayload?: number;
  /**
   * Operator (decentralized JWT) authentication, as a fleet whose credentials were made with `nsc` has it: a client
   * needs a credentials file, which `credentials()` writes.
   */
  auth?: boolean;
  /** Serves TLS with this certificate and key (PEM files): clients must use TLS. */
  tls?: { certFile: string; keyFile: string };
}

export interface NatsUser {
  /** The user's NKey seed, the secret in its credentials file. */
  seed: string;
  jwt: string;
}

export interface Nats {
  /** nats://address:port */
  url: string;
  address: string;
  port: number;
  /** Where JetStream keeps its streams; it outlives kill() and restart(). */
  storeDir: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would; its store is kept for restart(). */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same store (after kill(), or stopping it first). */
  restart(): Promise<void>;
  log(): string;
  /**
   * Writes a user's credentials file (mode 0600) for a server started with `auth`: a user of the account the server
   * knows, or (`refused`) one signed by an account it does not, which it refuses. `denyPublish`: subjects the user may
   * not publish to (a fleet that withholds some JetStream API, e.g. `$JS.API.STREAM.INFO.>`).
   */
  credentials(file: string, options?: { refused?: boolean; denyPublish?: string[] }): Promise<NatsUser>;
}

/** Debian's nats-server (README.md#nats), in the foreground, on loopback, with its own store directory. */
export async function startNats(options: NatsOptions = {}): Promise<Nats> {
  const lab = await labDir('nats');
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const args = ['-a', address, '-p', String(port), ...(options.jetstream ? ['-js', '-sd', lab.path] : [])];
  // What has no command-line flag comes from a configuration file; the flags still override the rest.
  const settings: string[] = [];
  if (options.maxPayload !== undefined) settings.push(`max_payload: ${options.maxPayload}`);
  if (options.tls) settings.push(`tls { cert_file: "${options.tls.certFile}", key_file: "${options.tls.keyFile}" }`);
  const operator = options.auth ? operatorSetup() : undefined;
  if (operator) settings.push(operator.config);
  if (settings.length > 0) {
    const config = join(lab.path, 'nats.conf');
    await writeFile(config, `${settings.join('\n')}\n`);
    args.push('-c', config);
  }
  let server: ServerProcess;
  const start = async () => {
    server = new ServerProcess(`nats-server on ${address}:${port}`, NATS_SERVER, args, { cwd: lab.path });
    try {
      await server.waitUntil(() => portOpen(address, port), 20_000);
    } catch (error) {
      await server.stop();
      throw error instanceof LabError ? error : new LabError(`${NATS_SERVER} did not start: ${String(error)}`);
    }
  };
  try {
    await start();
  } catch (error) {
    await lab.cleanup();
    throw error;
  }
  return {
    url: `nats://${address}:${port}`,
    address,
    port,
    storeDir: lab.path,
    async stop() {
      await server.stop();
      await lab.cleanup();
    },
    kill: () => server.stop('SIGKILL'),
    async restart() {
      await server.stop();
      await start();
    },
    log: () => server.log,
    async credentials(file, { refused = false, denyPublish } = {}) {
      if (!operator) throw new LabError('credentials() needs a server started with auth');
      const user = createUser();
      const permissions = denyPublish ? { pub: { deny: denyPublish } } : {};
      const jwt = signedJwt(refused ? createAccount() : operator.account, user.getPublicKey(), 'certsmith-host', {
        type: 'user',
        ...UNLIMITED_USER,
        ...permissions,
      });
      const seed = new TextDecoder().decode(user.getSeed());
      const text = `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
      await writeFile(file, text, { mode: 0o600 });
      return { seed, jwt };
    },
  };
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
const UNLIMITED_USER = { pub: {}, sub: {}, subs: -1, data: -1, payload: -1 };

/**
 * An operator, its system account and one account with JetStream, preloaded in a memory resolver: what `nsc` would
 * make, signed here with NKeys (nsc is not a Debian package).
 */
function operatorSetup(): { config: string; account: KeyPair } {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const jetstream = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
  const operatorJwt = signedJwt(operator, operator.getPublicKey(), 'lab', { type: 'operator', system_account: system.getPublicKey() });
  const systemJwt = signedJwt(operator, system.getPublicKey(), 'SYS', { type: 'account', limits: UNLIMITED });
  const accountJwt = signedJwt(operator, account.getPublicKey(), 'fleet', { type: 'account', limits: { ...UNLIMITED, ...jetstream } });
  const config = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    'resolver: MEMORY',
    `resolver_preload: { ${system.getPublicKey()}: ${systemJwt}, ${account.getPublicKey()}: ${accountJwt} }`,
  ].join('\n');
  return { config, account };
}

/** A NATS JWT (v2 claims) for `subject`, signed by `signer`'s NKey. */
function signedJwt(signer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: signer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  claims.jti = createHash('sha256').update(JSON.stringify(claims)).digest('base64url');
  const signed = `${base64url({ typ: 'JWT', alg: 'ed25519-nkey' })}.${base64url(claims)}`;
  return `${signed}.${Buffer.from(signer.sign(new TextEncoder().encode(signed))).toString('base64url')}`;
}
