import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, type FleetLink, type LifecycleEvents, type RateLimitEntry, type RunReport, type StatusReport, type StatusSink } from '@certsmith/core';
import { startNats, type Nats } from '@certsmith/testlab';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostContributions } from '../testing/nats-hosts.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const status = (hostname: string): StatusReport => ({ hostname, config: '/etc/certsmith.json', now: NOW.toISOString(), lastRun: null, targets: [] });
const report = {} as RunReport;
const HOUR = 3_600_000;
const later = (hours: number) => new Date(NOW.getTime() + hours * HOUR);
const inspected = { target: 'a', service: 'files', files: [], live: [], summary: null } as unknown as LifecycleEvents['inspect'];

/** The plugin as the CLI loads it for one run: one object, both status sink and fleet link. */
async function hostOf(
  nats: Nats,
  hostname: string,
  options: Record<string, unknown> = {},
  run: { stateDir?: string; now?: Date } = {},
): Promise<FleetLink & StatusSink> {
  const contributed = await hostContributions(nats.url, hostname, options, { stateDir: run.stateDir, now: run.now ?? NOW });
  expect(contributed.fleet[0]).toBe(contributed.statusSinks[0]);
  return contributed.fleet[0] as FleetLink & StatusSink;
}

const limit = (issuer: string, name: string): RateLimitEntry => ({
  issuer,
  scope: 'name',
  name,
  until: '2026-03-01T13:00:00Z',
  recordedAt: NOW.toISOString(),
  code: 'ACME_RATE_LIMITED',
  kind: 'rateLimited',
  detail: 'too many certificates',
});

describe('NatsFleet against a real nats-server', () => {
  let nats: Nats;
  let nc: NatsConnection;
  const signal = () => AbortSignal.timeout(10_000);
  beforeAll(async () => {
    nats = await startNats({ jetstream: true });
    nc = await connect({ servers: nats.url });
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('sends every event to the stream with its message id, and a re-send is stored once', async () => {
    const bus = createBus();
    const host = await hostOf(nats, 'web1.example.test');
    host.listen?.(bus);
    bus.emit('dns-resolved', { name: 'a.example.test', addresses: ['192.0.2.1'], path: [], chosen: null });
    bus.emit('failed', { stage: 'issue', target: 'a', code: 'X', message: 'no', next: 'next issuer', severity: 'warning' });
    const outcome = await host.publish(status('web1.example.test'), report, signal());
    expect(outcome).toEqual({ detail: '3 messages sent', warnings: [] });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('CERTSMITH_EVENTS');
    expect(info.state.messages).toBe(2);
    expect(info.config.duplicate_window).toBe(48 * 3600 * 1e9);
    const first = await jsm.streams.getMessage('CERTSMITH_EVENTS', { seq: 1 });
    if (!first) throw new Error('the stream has no first message');
    expect(first.subject).toBe('certsmith.events.web1_example_test.dns-resolved');
    expect(first.header.get('Nats-Msg-Id')).toMatch(/^web1_example_test\.[0-9a-f-]+\.0$/);
    // The same message id again (a spool sent twice) is acknowledged as a duplicate and not stored.
    const again = await jetstream(nc).publish(first.subject, first.data, { msgID: first.header.get('Nats-Msg-Id') });
    expect(again.duplicate).toBe(true);
    expect((await jsm.streams.info('CERTSMITH_EVENTS')).state.messages).toBe(2);
  });

  it("writes the host's status document to the status bucket under its host key", async () => {
    const host = await hostOf(nats, 'web2.example.test');
    await host.publish(status('web2.example.test'), report, signal());
    const kv = await new Kvm(nc).open('certsmith-status');
    const entry = await kv.get('web2_example_test');
    expect(entry?.json()).toEqual({ host: 'web2.example.test', reportedAt: NOW.toISOString(), status: status('web2.example.test') });
    const view = await host.view(signal());
    expect(view.hosts.map((h) => h.host)).toContain('web2.example.test');
  });

  it("gives host B the rate limit host A met, and not A's own back to A", async () => {
    const a = await hostOf(nats, 'a.example.test');
    const b = await hostOf(nats, 'b.example.test');
    await a.shareRateLimits([limit('letsencrypt', 'www.example.test')], signal());
    await b.shareRateLimits([limit('letsencrypt', 'mail.example.test')], signal());
    expect(await b.sharedRateLimits(signal())).toEqual([limit('letsencrypt', 'www.example.test')]);
    expect(await a.sharedRateLimits(signal())).toEqual([limit('letsencrypt', 'mail.example.test')]);
    const view = await a.view(signal());
    expect(view.rateLimits).toEqual(
      expect.arrayContaining([
        { ...limit('letsencrypt', 'www.example.test'), host: 'a.example.test' },
        { ...limit('letsencrypt', 'mail.example.test'), host: 'b.example.test' },
      ]),
    );
    expect(a.takeWarnings()).toEqual([]);
  });

  it('leaves out malformed values with a warning naming their key', async () => {
    const kvm = new Kvm(nc);
    await (await kvm.create('certsmith-ledger')).put('ratelimit.forged', '{"entries":[{"issuer":1}]}');
    await (await kvm.create('certsmith-status')).put('forged_host', 'not json');
    const host = await hostOf(nats, 'c.example.test');
    await host.sharedRateLimits(signal());
    expect(host.takeWarnings()).toEqual([expect.stringContaining('ratelimit.forged')]);
    const view = await host.view(signal());
    expect(view.warnings).toEqual(expect.arrayContaining([expect.stringContaining('forged_host'), expect.stringContaining('ratelimit.forged')]));
    expect(view.hosts.map((h) => h.host)).not.toContain('forged_host');
  });

  it("writes a status over the server's max_payload in parts, and fleet status sees the host whole", async () => {
    // About 1.2 MB of targets: over nats-server's default max_payload (1 MB), which the server would refuse as one message.
    const targets = Array.from({ length: 1_200 }, (_, i) => ({ target: `t${i}`, services: [], pending: [], note: 'x'.repeat(1_000) }));
    const big = { ...status('big.example.test'), targets } as unknown as StatusReport;
    const host = await hostOf(nats, 'big.example.test');
    const outcome = await host.publish(big, report, signal());
    expect(outcome).toEqual({ detail: '1 messages sent', warnings: [] });
    expect((await (await new Kvm(nc).open('certsmith-status')).get('big_example_test'))?.json()).toMatchObject({ statusParts: 1, parts: 2 });
    const seen = (await host.view(signal())).hosts.find((h) => h.host === 'big.example.test');
    expect(seen?.status.targets).toHaveLength(1_200);
  });

  it('looks for old parts in the bucket only when its last report was in parts (or no record says): a report that fits saves that round trip', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
    // The JetStream API requests that look at the status bucket's stream (a plain subscription sees each one).
    const looks: string[] = [];
    const watcher = nc.subscribe('$JS.API.STREAM.INFO.KV_certsmith-status', { callback: (_, m) => void looks.push(m.subject) });
    await nc.flush();
    const targets = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `t${i}`, note: 'x'.repeat(1_000) }));
    const runWith = async (n: number, hours: number) => {
      const host = await hostOf(nats, 'shrinking.example.test', {}, { stateDir, now: later(hours) });
      const outcome = await host.publish({ ...status('shrinking.example.test'), targets: targets(n) } as unknown as StatusReport, report, signal());
      await nc.flush();
      return { outcome, looks: looks.splice(0).length };
    };
    try {
      // In parts: it looks for an older generation to remove.
      expect(await runWith(1_200, 0)).toEqual({ outcome: { detail: '1 messages sent', warnings: [] }, looks: 1 });
      // One value again: its parts are removed, which needs the look.
      expect(await runWith(2, 1)).toMatchObject({ looks: 1 });
      const kv = await new Kvm(nc).open('certsmith-status');
      const keys: string[] = [];
      for await (const key of await kv.keys('shrinking_example_test.>')) keys.push(key);
      expect(keys).toEqual([]);
      // One value after one value: no look.
      expect(await runWith(3, 2)).toEqual({ outcome: { detail: '1 messages sent', warnings: [] }, looks: 0 });
    } finally {
      watcher.unsubscribe();
    }
  });

  it('says the event stream it cannot create, keeps the events in the spool, and still writes the status', async () => {
    // A stream (the default one) already holds the subjects: the server refuses to create another over them.
    const jsm = await jetstreamManager(nc);
    const holder = await jsm.streams.info('CERTSMITH_EVENTS').catch(() => jsm.streams.add({ name: 'CERTSMITH_EVENTS', subjects: ['certsmith.events.>'] }));
    const before = holder.state.messages;
    const bus = createBus();
    const host = await hostOf(nats, 'd.example.test', { stream: 'REFUSED_EVENTS' });
    host.listen?.(bus);
    bus.emit('failed', { stage: 'issue', target: 'a', code: 'X', message: 'no', next: 'next issuer', severity: 'warning' });
    const outcome = await host.publish(status('d.example.test'), report, signal());
    expect(outcome.warnings).toEqual([expect.stringContaining('REFUSED_EVENTS')]);
    expect(outcome.detail).toMatch(/spooled/);
    expect((await jsm.streams.info('CERTSMITH_EVENTS')).state.messages).toBe(before);
    const entry = await (await new Kvm(nc).open('certsmith-status')).get('d_example_test');
    expect(entry?.json()).toMatchObject({ host: 'd.example.test' });
  });

  it('sends an unchanged status again only when the heartbeat is due, and inspections not at all', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-nats-'));
    const kv = await new Kvm(nc).open('certsmith-status');
    const jsm = await jetstreamManager(nc);
    const streamMessages = async () => (await jsm.streams.info('CERTSMITH_EVENTS')).state.messages;
    /** One run of host e at `now`: a healthy one (its targets inspected) unless an event says more. */
    const runAt = async (now: Date, hostStatus: StatusReport, told?: (bus: ReturnType<typeof createBus>) => void) => {
      const bus = createBus();
      const host = await hostOf(nats, 'e.example.test', {}, { stateDir, now });
      host.listen?.(bus);
      bus.emit('inspect', inspected);
      told?.(bus);
      return host.publish(hostStatus, report, signal());
    };
    const healthy = status('e.example.test');
    const before = await streamMessages();
    expect((await runAt(NOW, healthy)).detail).toBe('1 messages sent');
    const first = await kv.get('e_example_test');
    expect(await streamMessages()).toBe(before);

    // 11 hours later, nothing changed: nothing is sent, and fleet status still sees the host as it was.
    expect((await runAt(later(11), { ...healthy, now: later(11).toISOString() })).detail).toBe(
      `nothing new since the report of ${NOW.toISOString()}: not sent`,
    );
    expect((await kv.get('e_example_test'))?.revision).toBe(first?.revision);
    const seen = (await (await hostOf(nats, 'viewer.example.test')).view(signal())).hosts.find((h) => h.host === 'e.example.test');
    expect(seen?.reportedAt).toBe(NOW.toISOString());

    // 12 hours after the last report the heartbeat is due: the same status is sent again.
    expect((await runAt(later(12), healthy)).detail).toBe('1 messages sent');
    expect((await kv.get('e_example_test'))?.json()).toMatchObject({ reportedAt: later(12).toISOString() });
    // A changed status is sent at once; an event other than an inspection is sent with the status, never an inspection.
    const changed = { ...healthy, config: '/etc/certsmith/other.json' };
    expect((await runAt(later(12.5), changed)).detail).toBe('1 messages sent');
    expect((await kv.get('e_example_test'))?.json()).toMatchObject({ reportedAt: later(12.5).toISOString(), status: changed });
    const failed = { stage: 'issue', target: 'a', code: 'X', message: 'no', next: 'next issuer', severity: 'warning' } as const;
    expect((await runAt(later(13), changed, (bus) => bus.emit('failed', failed))).detail).toBe('2 messages sent');
    expect(await streamMessages()).toBe(before + 1);
  });
});
