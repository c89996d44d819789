import { copyFile, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Container,
  TOKENS,
  contributionsOf,
  createBus,
  type Bus,
  type CertsmithConfig,
  type FleetLink,
  type Issuer,
  type RunReport,
  type StatusReport,
  type StatusSink,
} from '@certsmith/core';
import { freePort, startNats, type Nats } from '@certsmith/testlab';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsFleet, manifest, settingsOf } from './index.js';
import { LastReport, reportDestination, statusDigest } from './last-report.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const status: StatusReport = { hostname: 'web.example.test', config: '/etc/certsmith.json', now: NOW.toISOString(), lastRun: null, targets: [] };
const report = {} as RunReport;
type Host = FleetLink & StatusSink;

/** A host as the plugin's manifest makes it; with `elapsed`, the wait budget's clock is that instead of real time. */
async function hostOf(servers: string[], stateDir: string, options: Record<string, unknown> = {}, elapsed?: () => number): Promise<{ host: Host; bus: Bus }> {
  const config = { file: join(stateDir, 'certsmith.json'), hostname: 'web.example.test', paths: { stateDir } } as unknown as CertsmithConfig;
  if (elapsed) {
    const bus = createBus();
    const host = new NatsFleet(settingsOf({ servers, maxWaitMs: 1_000, ...options }, config), { clock: { now: () => NOW }, elapsed });
    host.listen(bus);
    return { host, bus };
  }
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Clock).toConstantValue({ now: () => NOW });
  const bus = createBus();
  const host = (await contributionsOf(manifest, { servers, maxWaitMs: 1_000, ...options }, config, root, bus)).fleet[0] as Host;
  host.listen?.(bus);
  return { host, bus };
}

/** Every call on the run's path, as a run makes them; returns what each gave. */
async function runPath(host: Host) {
  const signal = AbortSignal.timeout(30_000);
  const limits = await host.sharedRateLimits(signal);
  await host.shareRateLimits(
    [{ issuer: 'le', scope: 'account', until: '2026-03-01T12:00:00Z', recordedAt: NOW.toISOString(), code: 'X', kind: 'k', detail: 'd' }],
    signal,
  );
  const slot = await host.orderSlot({ id: 'le' } as Issuer, signal);
  return { limits, slot };
}

const emitTwo = (bus: Bus) => {
  bus.emit('dns-resolved', { name: 'a.example.test', addresses: [], path: [], chosen: null });
  bus.emit('dns-resolved', { name: 'b.example.test', addresses: [], path: [], chosen: null });
};

describe('NatsFleet when NATS is unusable', () => {
  let nats: Nats;
  let silent: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    nats = await startNats({ jetstream: true });
    // Accepts connections and never says a word: a NATS that hangs.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  }, 30_000);
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    silent?.close();
    await nats?.stop();
  });

  it('goes on alone when the server is down, spools, and the next run sends the spool once', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
    await nats.kill();
    const first = await hostOf([nats.url], stateDir);
    emitTwo(first.bus);
    const path = await runPath(first.host);
    expect(path).toEqual({ limits: [], slot: null });
    const warnings = first.host.takeWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(nats.url);
    expect((await first.host.publish(status, report, AbortSignal.timeout(5_000))).detail).toMatch(/3 spooled/);
    const spool = join(stateDir, 'fleet-spool.jsonl');
    expect((await stat(spool)).mode & 0o777).toBe(0o600);
    expect((await readFile(spool, 'utf8')).trim().split('\n')).toHaveLength(3);
    await copyFile(spool, join(stateDir, 'spool-copy'));

    await nats.restart();
    const second = await hostOf([nats.url], stateDir);
    emitTwo(second.bus);
    expect(await second.host.publish(status, report, AbortSignal.timeout(5_000))).toEqual({ detail: '5 messages sent', warnings: [] });
    await expect(stat(spool)).rejects.toThrow(/ENOENT/);
    // The same spool sent again (a run that died before removing it) adds nothing to the stream.
    await copyFile(join(stateDir, 'spool-copy'), spool);
    const third = await hostOf([nats.url], stateDir);
    await third.host.publish(status, report, AbortSignal.timeout(5_000));
    const nc = await connect({ servers: nats.url });
    try {
      expect((await (await jetstreamManager(nc)).streams.info('CERTSMITH_EVENTS')).state.messages).toBe(4);
      expect((await (await new Kvm(nc).open('certsmith-status')).get('web_example_test'))?.json()).toMatchObject({ host: 'web.example.test' });
    } finally {
      await nc.close();
    }
  });

  it('goes on alone on a closed port and on a server that never answers (there, once its budget is spent)', async () => {
    for (const url of [`nats://127.0.0.1:${await freePort()}`, `nats://127.0.0.1:${(silent.address() as { port: number }).port}`]) {
      const { host } = await hostOf([url], await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-')));
      expect(await runPath(host)).toEqual({ limits: [], slot: null });
      expect(host.takeWarnings()).toEqual([expect.stringContaining(url)]);
      expect(host.takeWarnings()).toEqual([]);
      expect((await host.publish(status, report, AbortSignal.timeout(5_000))).detail).toMatch(/1 spooled/);
      await expect(host.view(AbortSignal.timeout(5_000))).rejects.toMatchObject({ code: 'FLEET_UNREACHABLE', message: expect.stringContaining(url) });
    }
  });

  it('past its wait budget, as its injected clock counts it, a run goes on alone with one warning though NATS answers', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
    // The budget's clock stands still until the test makes every wait on NATS longer than the whole 1 s budget.
    let clock = 0;
    let eachReading = 0;
    const { host, bus } = await hostOf([nats.url], stateDir, {}, () => (clock += eachReading));
    const issuer = { id: 'budget' } as Issuer;
    // Within the budget the run has the fleet: a slot, no warning.
    const slot = await host.orderSlot(issuer, AbortSignal.timeout(30_000));
    expect(slot).not.toBeNull();
    await slot!.release();
    expect(host.takeWarnings()).toEqual([]);

    eachReading = 1_001;
    // The same NATS, with nine slots free, but the budget is spent at the next wait: no slot, the run goes on alone.
    expect(await host.orderSlot(issuer, AbortSignal.timeout(30_000))).toBeNull();
    expect(host.takeWarnings()).toEqual([expect.stringMatching(new RegExp(`${nats.url}.*goes on alone`))]);
    // From then on it asks NATS nothing, warns no more, and spools what it would have sent.
    expect(await runPath(host)).toEqual({ limits: [], slot: null });
    emitTwo(bus);
    expect((await host.publish(status, report, AbortSignal.timeout(5_000))).detail).toBe(
      `0 messages sent, 3 spooled to ${join(stateDir, 'fleet-spool.jsonl')}`,
    );
    expect(host.takeWarnings()).toEqual([]);
  });

  it('does not try NATS at all in a run with nothing new: a server that never answers costs it no wait and no warning', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
    const url = `nats://127.0.0.1:${(silent.address() as { port: number }).port}`;
    // What a run an hour ago left when the fleet acknowledged this very status.
    const destination = reportDestination({ servers: [url], statusBucket: 'certsmith-status', host: 'web_example_test' });
    await new LastReport(join(stateDir, 'fleet-report.json')).write(statusDigest(status, destination), new Date(NOW.getTime() - 3_600_000));
    const { host, bus } = await hostOf([url], stateDir);
    bus.emit('inspect', { target: 'a', service: 'files', files: [], live: [], summary: null } as never);
    expect(await host.publish(status, report, AbortSignal.timeout(5_000))).toEqual({
      detail: `nothing new since the report of ${new Date(NOW.getTime() - 3_600_000).toISOString()}: not sent`,
      warnings: [],
    });
    expect(host.takeWarnings()).toEqual([]);
    await expect(stat(join(stateDir, 'fleet-spool.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('goes on alone, with a warning naming it, when the credentials file is readable by others', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
    const creds = join(stateDir, 'fleet.creds');
    await writeFile(creds, 'not read', { mode: 0o644 });
    const { host } = await hostOf([nats.url], stateDir, { credentialsFile: creds });
    expect(await runPath(host)).toMatchObject({ limits: [], slot: null });
    expect(host.takeWarnings()).toEqual([expect.stringMatching(new RegExp(`${creds}.*0644`))]);
    expect((await host.publish(status, report, AbortSignal.timeout(5_000))).detail).toMatch(/spooled/);
  });
});
