// For this plugin's tests against a real nats-server: the server with the plugin's clients on it, and the plugin as the
// CLI loads it for one host's run. Test-only: tsconfig.lib.json builds src/ alone, so nothing here is shipped.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container, TOKENS, contributionsOf, createBus, type CertsmithConfig } from '@certsmith/core';
import { startNats, type Nats } from '@certsmith/testlab';
import { afterAll, beforeAll } from 'vitest';
import { manifest } from '../src/index.js';
import { openClients, type NatsClients } from '../src/nats-clients.js';

/** A nats-server with JetStream for the tests of the describe block that calls this, and the plugin's clients on it. */
export function natsWithClients(): { readonly nats: Nats; readonly clients: NatsClients } {
  const lab = {} as { nats: Nats; clients: NatsClients };
  beforeAll(async () => {
    lab.nats = await startNats({ jetstream: true });
    lab.clients = await openClients({ servers: [lab.nats.url], hostname: 'test' }, 5_000);
  }, 30_000);
  afterAll(async () => {
    await lab.clients?.nc.close();
    await lab.nats?.stop();
  });
  return lab;
}

/**
 * What the plugin contributes for one host's run, as the CLI loads it: the fleet on `natsUrl` with `options`, the
 * host's state in `run.stateDir` (a new temp dir unless given), the run's clock standing at `run.now`.
 */
export async function hostContributions(natsUrl: string, hostname: string, options: Record<string, unknown>, run: { stateDir?: string; now: Date }) {
  const stateDir = run.stateDir ?? (await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-')));
  const config = { file: join(stateDir, 'certsmith.json'), hostname, paths: { stateDir } } as unknown as CertsmithConfig;
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Clock).toConstantValue({ now: () => run.now });
  return contributionsOf(manifest, { servers: [natsUrl], ...options }, config, root, createBus());
}
