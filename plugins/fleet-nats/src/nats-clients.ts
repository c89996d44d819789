import { readFile, stat } from 'node:fs/promises';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV, KvOptions } from '@nats-io/kv';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { FleetSettings } from './options.js';

/**
 * The clients of one connection. Only what a publish needs is loaded with it; the JetStream manager and the KV client
 * (their modules and, for a bucket, the round trips that check or make its stream) come with their first use.
 */
export interface NatsClients {
  nc: NatsConnection;
  js: JetStreamClient;
  manager(): Promise<JetStreamManager>;
  bucket(name: string, options?: Partial<KvOptions>): Promise<KV>;
}

/**
 * Why the fleet cannot be used this run, naming the file at fault: a credentials file (or a TLS key) missing or
 * readable by others, found before any connection is tried, or credentials the server refused.
 */
export class CredentialsRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsRefused';
  }
}

type ConnectSettings = Pick<FleetSettings, 'servers' | 'credentialsFile' | 'tls' | 'hostname'>;

/** Connects once (no reconnect storm: a run goes on alone instead), within `timeoutMs`. */
export async function openClients(settings: ConnectSettings, timeoutMs: number): Promise<NatsClients> {
  // Loaded on the first connection only: a command that never connects does not load the clients.
  const [{ connect, credsAuthenticator }, { jetstream, jetstreamManager }] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
  ]);
  const timeout = Math.max(1, Math.round(timeoutMs));
  const options: NodeConnectionOptions = {
    servers: settings.servers,
    name: `certsmith ${settings.hostname}`,
    timeout,
    maxReconnectAttempts: 1,
    reconnectTimeWait: 250,
  };
  if (settings.credentialsFile) options.authenticator = credsAuthenticator(await privateFile(settings.credentialsFile, 'credentials file'));
  if (settings.tls?.keyFile) await privateFile(settings.tls.keyFile, 'TLS key file');
  if (settings.tls) options.tls = { ...settings.tls };
  const nc = await connect(options).catch((error: unknown) => {
    throw settings.credentialsFile && isAuthRefusal(error)
      ? new CredentialsRefused(`credentials file ${settings.credentialsFile} refused by the server: ${error.message}`)
      : error;
  });
  const js = jetstream(nc, { timeout });
  // No API check: the first call to the manager says soon enough whether JetStream answers.
  const manager = once(() => jetstreamManager(nc, { timeout, checkAPI: false }));
  const kvm = once(async () => new (await import('@nats-io/kv')).Kvm(js));
  const buckets = new Map<string, Promise<KV>>();
  return {
    nc,
    js,
    manager,
    bucket(name, bucketOptions = {}) {
      let kv = buckets.get(name);
      if (!kv) {
        kv = kvm().then((m) => m.create(name, { history: 1, ...bucketOptions }));
        // A failed open is tried again by the next call.
        kv.catch(() => buckets.delete(name));
        buckets.set(name, kv);
      }
      return kv;
    },
  };
}

/** `make`'s promise, made at the first call; a failure is made again by the next call. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    if (!made) {
      made = make();
      made.catch(() => (made = undefined));
    }
    return made;
  };
}

/**
 * The file's bytes, refused when others may read it: the seed in a credentials file is the host's identity in the
 * fleet, as a TLS key is.
 */
async function privateFile(file: string, what: string): Promise<Uint8Array> {
  let mode: number;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch (error) {
    throw new CredentialsRefused(`${what} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if ((mode & 0o077) !== 0) throw new CredentialsRefused(`${what} ${file} has mode ${mode.toString(8).padStart(4, '0')}: it must be 0600 or stricter`);
  return new Uint8Array(await readFile(file));
}

/** The server refused the connection's credentials (told apart by name: the error classes load with the clients). */
function isAuthRefusal(error: unknown): error is Error {
  return error instanceof Error && (error.name === 'AuthorizationError' || error.name === 'UserAuthenticationExpiredError');
}
