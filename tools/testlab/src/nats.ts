import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
}

/** Debian's nats-server (README.md#nats), in the foreground, on loopback, with its own store directory. */
export async function startNats(options: NatsOptions = {}): Promise<Nats> {
  const lab = await labDir('nats');
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const args = ['-a', address, '-p', String(port), ...(options.jetstream ? ['-js', '-sd', lab.path] : [])];
  if (options.maxPayload !== undefined) {
    // max_payload has no command-line flag: it comes from a configuration file, the flags still override the rest.
    const config = join(lab.path, 'nats.conf');
    await writeFile(config, `max_payload: ${options.maxPayload}\n`);
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
  };
}
