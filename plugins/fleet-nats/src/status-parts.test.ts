import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, type FleetLink, type RunReport, type StatusReport, type StatusSink } from '@certsmith/core';
import { startNats, type Nats } from '@certsmith/testlab';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KvEntry } from '@nats-io/kv';
import { PermissionViolationError, RequestError, connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostContributions } from '../testing/nats-hosts.js';
import type { Ask } from './fleet-connection.js';
import { readHosts } from './fleet-view.js';
import { sendOutbound } from './outbound-sender.js';
import { openClients, type NatsClients } from './nats-clients.js';
import { OnceWarnings } from './warnings.js';
import { HEADER_ROOM, MAX_PARTS, headProblem, joinParts, partCount, partKeysOf, staleFilters, statusWrite, type StatusHead } from './status-parts.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const report = {} as RunReport;
/** A status of `targets` targets of about 500 bytes each. */
const statusOf = (hostname: string, targets: number): StatusReport =>
  ({
    hostname,
    config: '/etc/certsmith.json',
    now: NOW.toISOString(),
    lastRun: null,
    targets: Array.from({ length: targets }, (_, i) => ({ target: `t${i}`, services: [], pending: [], lastRun: null, note: 'é'.repeat(250) })),
  }) as unknown as StatusReport;

describe('statusWrite and joinParts', () => {
  it('keeps a status that fits as it is, and splits one that does not into parts a head names', () => {
    const small = JSON.stringify({ a: 1 });
    expect(statusWrite('web', small, 4_096, 'g1')).toEqual({ value: Buffer.from(small) });
    expect(statusWrite('web', small, undefined, 'g1')).toEqual({ value: Buffer.from(small) });
    // Multi-byte characters cut across parts come back whole.
    const big = JSON.stringify({ text: 'é'.repeat(5_000) });
    const write = statusWrite('web', big, 4_096, 'g1');
    if (!('head' in write)) throw new Error('not split');
    expect(write.parts.map((p) => p.key)).toEqual(partKeysOf('web', write.head));
    expect(write.parts.map((p) => p.key)).toEqual(['web.g1.0', 'web.g1.1', 'web.g1.2', 'web.g1.3']);
    for (const part of write.parts) expect(part.value.length).toBeLessThanOrEqual(4_096 - HEADER_ROOM);
    expect(write.head).toMatchObject({ statusParts: 1, generation: 'g1', parts: 4, size: Buffer.byteLength(big) });
    expect(headProblem(write.head)).toBeNull();
    expect(
      joinParts(
        write.head,
        write.parts.map((p) => p.value),
      ),
    ).toEqual({ text: big });
    // One byte changed, or a part short: said, not joined.
    const forged = write.parts.map((p) => Buffer.from(p.value));
    forged[1]![0] = forged[1]![0]! ^ 1;
    expect(joinParts(write.head, forged)).toEqual({ problem: 'its parts do not have the sha256 its head names' });
    expect(joinParts(write.head, forged.slice(1))).toMatchObject({ problem: expect.stringMatching(/^its parts hold \d+ bytes, not the \d+/) });
  });

  it('refuses a head whose generation could name other keys, or whose part count is out of bounds', () => {
    const head: StatusHead = { statusParts: 1, generation: 'g1', parts: 2, size: 10, sha256: 'a'.repeat(64) };
    expect(headProblem(head)).toBeNull();
    expect(headProblem({ ...head, generation: 'other.g1' })).toBe('its generation is not one key token');
    expect(headProblem({ ...head, parts: MAX_PARTS + 1 })).toMatch(/part count/);
    expect(headProblem({ ...head, parts: 0 })).toMatch(/part count/);
    expect(headProblem({ ...head, sha256: 'xyz' })).toMatch(/sha256/);
    expect(headProblem({ ...head, statusParts: 2 as 1 })).toMatch(/format 2/);
  });

  it('purges every generation under the host key but the one kept', () => {
    const p = '$KV.b.web.';
    const subjects = [`${p}g1.0`, `${p}g1.1`, `${p}g2.0`, `${p}odd`, `${p}g3.0.1`];
    expect(staleFilters(p, subjects, 'g2')).toEqual([`${p}g1.>`, `${p}odd`, `${p}g3.>`]);
    expect(staleFilters(p, subjects, undefined)).toEqual([`${p}g1.>`, `${p}g2.>`, `${p}odd`, `${p}g3.>`]);
    expect(staleFilters(p, [], undefined)).toEqual([]);
  });
});

describe('readHosts while a host writes a new generation', () => {
  it('reads the head once again when the parts it names are gone, and finds the new generation whole', async () => {
    const doc = (targets: number) => JSON.stringify({ host: 'web.example.test', reportedAt: NOW.toISOString(), status: statusOf('web.example.test', targets) });
    const old = statusWrite('web', doc(20), 4_096, 'old');
    const next = statusWrite('web', doc(30), 4_096, 'new');
    if (!('head' in old) || !('head' in next)) throw new Error('not split');
    // The bucket as a reader finds it: the old head, whose parts the writer purged after it wrote the new generation.
    const store = new Map<string, KvEntry>();
    const put = (key: string, value: Uint8Array, revision: number) =>
      store.set(key, { key, value, revision, operation: 'PUT', created: NOW, string: () => Buffer.from(value).toString('utf8') } as unknown as KvEntry);
    put('web', Buffer.from(JSON.stringify(old.head)), 1);
    const reads: string[] = [];
    const bucket = {
      keys: async () =>
        (async function* () {
          yield* ['web', ...next.parts.map((p) => p.key)];
        })(),
      get: async (key: string) => {
        reads.push(key);
        // The first read of the head returned the old one; the new head is there by the second.
        if (key === 'web' && reads.filter((k) => k === 'web').length === 2) put('web', Buffer.from(JSON.stringify(next.head)), 5);
        return store.get(key) ?? null;
      },
    };
    next.parts.forEach((p, i) => put(p.key, p.value, 2 + i));
    const ask: Ask = (call) => call({ bucket: async () => bucket } as unknown as NatsClients);
    const warnings = new OnceWarnings();
    const hosts = await readHosts(ask, 'b', warnings);
    expect(warnings.take()).toEqual([]);
    expect(hosts.map((h) => h.status.targets.length)).toEqual([30]);
    expect(reads.filter((k) => k === 'web')).toHaveLength(2);
  });
});

describe('a status over max_payload against a real nats-server (max_payload 16 KB)', () => {
  let nats: Nats;
  let nc: NatsConnection;
  const signal = () => AbortSignal.timeout(10_000);
  beforeAll(async () => {
    nats = await startNats({ jetstream: true, maxPayload: 16_384 });
    nc = await connect({ servers: nats.url });
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  async function hostOf(hostname: string, stateDir?: string): Promise<FleetLink & StatusSink> {
    return (await hostContributions(nats.url, hostname, {}, { stateDir, now: NOW })).fleet[0] as FleetLink & StatusSink;
  }
  const keysOf = async () => {
    const found: string[] = [];
    for await (const key of await (await new Kvm(nc).open('certsmith-status')).keys()) found.push(key);
    return found.sort();
  };
  /** Every subject the bucket's stream holds under the host's key: a purged part leaves none, not even a tombstone. */
  const subjectsUnder = async (key: string) => {
    const info = await (await jetstreamManager(nc)).streams.info('KV_certsmith-status', { subjects_filter: `$KV.certsmith-status.${key}.>` });
    return Object.keys(info.state.subjects ?? {});
  };

  it('writes it in parts and a head, replaces the parts at the next report, and goes back to one value when it fits', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-parts-'));
    const first = await (await hostOf('big.example.test', stateDir)).publish(statusOf('big.example.test', 60), report, signal());
    expect(first).toEqual({ detail: '1 messages sent', warnings: [] });
    const kv = await new Kvm(nc).open('certsmith-status');
    const head = (await kv.get('big_example_test'))?.json<StatusHead>();
    expect(head).toMatchObject({ statusParts: 1, parts: expect.any(Number) });
    expect(head!.parts).toBeGreaterThan(1);
    expect((await keysOf()).filter((k) => k.startsWith('big_example_test'))).toEqual(['big_example_test', ...partKeysOf('big_example_test', head!)].sort());
    const view = await (await hostOf('viewer.example.test')).view(signal());
    expect(view.warnings).toEqual([]);
    expect(view.hosts.find((h) => h.host === 'big.example.test')?.status.targets).toHaveLength(60);

    const second = await (await hostOf('big.example.test', stateDir)).publish(statusOf('big.example.test', 80), report, signal());
    expect(second.warnings).toEqual([]);
    const newHead = (await kv.get('big_example_test'))?.json<StatusHead>();
    expect(newHead!.generation).not.toBe(head!.generation);
    expect((await keysOf()).filter((k) => k.startsWith('big_example_test'))).toEqual(['big_example_test', ...partKeysOf('big_example_test', newHead!)].sort());
    expect((await subjectsUnder('big_example_test')).filter((s) => s.includes(head!.generation))).toEqual([]);
    expect((await (await hostOf('viewer.example.test')).view(signal())).hosts.find((h) => h.host === 'big.example.test')?.status.targets).toHaveLength(80);

    const third = await (await hostOf('big.example.test', stateDir)).publish(statusOf('big.example.test', 2), report, signal());
    expect(third.warnings).toEqual([]);
    expect((await kv.get('big_example_test'))?.json()).toEqual({
      host: 'big.example.test',
      reportedAt: NOW.toISOString(),
      status: statusOf('big.example.test', 2),
    });
    expect(await subjectsUnder('big_example_test')).toEqual([]);
  });

  it('leaves out a host whose part was forged, ignores a part with no head, each in one warning, and loses nothing else', async () => {
    await (await hostOf('forged.example.test')).publish(statusOf('forged.example.test', 50), report, signal());
    await (await hostOf('fine.example.test')).publish(statusOf('fine.example.test', 50), report, signal());
    const kv = await new Kvm(nc).open('certsmith-status');
    const head = (await kv.get('forged_example_test'))!.json<StatusHead>();
    const forgedPart = partKeysOf('forged_example_test', head)[1]!;
    await kv.put(forgedPart, 'x'.repeat(100));
    await kv.put('nobody.abc.0', 'left over');
    await kv.put('nobody.abc.1', 'left over');
    await kv.put('badhead', JSON.stringify({ ...head, generation: 'fine_example_test.x' }));
    const view = await (await hostOf('viewer.example.test')).view(signal());
    const mine = view.warnings.filter((w) => /forged_example_test|nobody|badhead|fine_example_test/.test(w));
    expect(mine).toEqual([
      // Once per host key, with the purge that removes them (no host looks under a key that is gone).
      '2 parts (nobody.abc.0 ...) in bucket certsmith-status under nobody, which holds no status, ignored: if no host writes nobody any more, remove them with a purge of the stream KV_certsmith-status filtered to the subject $KV.certsmith-status.nobody.>',
      expect.stringMatching(/^the status head under badhead in bucket certsmith-status is not sound \(its generation is not one key token\): left out$/),
      expect.stringMatching(
        /^the status under forged_example_test in bucket certsmith-status is not whole \(its parts hold \d+ bytes, not the \d+ its head names\): left out$/,
      ),
    ]);
    expect(view.hosts.map((h) => h.host)).not.toContain('forged.example.test');
    expect(view.hosts.find((h) => h.host === 'fine.example.test')?.status.targets).toHaveLength(50);
  });

  it('makes its record say parts may remain before it writes the first part: a run killed before its head leaves a trace', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-parts-'));
    const recordFile = join(stateDir, 'fleet-report.json');
    await (await hostOf('killed.example.test', stateDir)).publish(statusOf('killed.example.test', 1), report, signal());
    const fitting = JSON.parse(await readFile(recordFile, 'utf8')) as Record<string, unknown>;
    expect(fitting).not.toHaveProperty('parts');
    // What the record says when the first part reaches the server: all a run killed then would leave.
    let atFirstPart: unknown;
    const sub = nc.subscribe('$KV.certsmith-status.killed_example_test.>', { max: 1, callback: () => void (atFirstPart = readFileSync(recordFile, 'utf8')) });
    await nc.flush();
    await (await hostOf('killed.example.test', stateDir)).publish(statusOf('killed.example.test', 60), report, signal());
    await nc.flush();
    await sub.closed;
    expect(JSON.parse(atFirstPart as string)).toEqual({ ...fitting, parts: true });
  });

  it('leaves the parts another run of the host writes while it purges, and purges those older than its head', async () => {
    const clients = await openClients({ servers: [nats.url], hostname: 'test' }, 5_000);
    const kv = await clients.bucket('certsmith-status');
    await kv.put('twice.old.0', 'left by a run that died');
    let newer: string[] = [];
    // The other run (a manual check beside the timer's) writes its parts after this run's head, before it purges.
    const ask: Ask = (call) =>
      call({
        ...clients,
        manager: async () => {
          if (newer.length === 0) {
            newer = ['twice.newer.0', 'twice.newer.1'];
            for (const key of newer) await kv.put(key, 'part');
          }
          return clients.manager();
        },
      });
    const status = { kind: 'status' as const, bucket: 'certsmith-status', key: 'twice', value: '{}' };
    const outcome = await sendOutbound(ask, 'certsmith-events', [status], {
      maxPayload: 16_384,
      partsMayRemain: true,
      staleParts: (_k, e) => {
        throw e;
      },
    });
    expect(outcome.refused).toEqual([]);
    expect(newer).toHaveLength(2);
    expect((await subjectsUnder('twice')).sort()).toEqual(newer.map((k) => `$KV.certsmith-status.${k}`));
    await clients.nc.close();
  });

  it('still says an event over max_payload in one warning, and sends the status', async () => {
    const host = await hostOf('loud.example.test');
    const bus = createBus();
    host.listen?.(bus);
    bus.emit('failed', { stage: 'issue', target: 'a', code: 'X', message: 'y'.repeat(20_000), next: 'next issuer', severity: 'warning' });
    const outcome = await host.publish(statusOf('loud.example.test', 1), report, signal());
    expect(outcome.warnings).toEqual([
      expect.stringMatching(
        /^FLEET_MESSAGE_TOO_LARGE: the event certsmith\.events\.loud_example_test\.failed is \d+ bytes, over the NATS server's max_payload of 16384/,
      ),
    ]);
    expect(outcome.detail).toBe('1 messages sent');
  });
});

describe('sendOutbound when the host may not look at the bucket stream', () => {
  const statusMessage = (value: string) => ({ kind: 'status' as const, bucket: 'b', key: 'web', value });
  // As the client refuses a request to a subject the user may not publish to: a RequestError, the violation its cause.
  const subject = '$JS.API.STREAM.INFO.KV_b';
  const denied = new RequestError('request failed', {
    cause: new PermissionViolationError(`Permissions Violation for Publish to "${subject}"`, 'publish', subject),
  });
  function fakeAsk(published: string[]): Ask {
    const clients = {
      js: { publish: async (subject: string) => (published.push(subject), { seq: published.length }) },
      manager: async () => ({ streams: { info: () => Promise.reject(denied) } }),
    } as unknown as NatsClients;
    return (call) => call(clients);
  }

  it('says nothing of old parts when its status fits, and says it when it wrote parts it cannot purge', async () => {
    const told: string[] = [];
    // No record: parts of an earlier status may remain, so it looks, and is refused.
    const options = { maxPayload: 4_096, partsMayRemain: true, staleParts: (key: string) => told.push(key) };
    const published: string[] = [];
    expect(await sendOutbound(fakeAsk(published), 'S', [statusMessage('{}')], options)).toEqual({ refused: [], unavailable: undefined });
    expect(published).toEqual(['$KV.b.web']);
    expect(told).toEqual([]);
    const big = JSON.stringify({ text: 'x'.repeat(5_000) });
    expect((await sendOutbound(fakeAsk(published), 'S', [statusMessage(big)], options)).refused).toEqual([]);
    // Its two parts, then its head.
    expect(published.slice(1)).toEqual([expect.stringMatching(/^\$KV\.b\.web\.[0-9a-f]{12}\.0$/), expect.stringMatching(/\.1$/), '$KV.b.web']);
    expect(told).toEqual(['web']);
  });
});

describe('a host whose user may not look at the bucket stream (real nats-server, a user denied $JS.API.STREAM.INFO.>)', () => {
  let nats: Nats;
  let credentialsFile: string;
  beforeAll(async () => {
    nats = await startNats({ jetstream: true, auth: true, maxPayload: 16_384 });
    const dir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-denied-'));
    credentialsFile = join(dir, 'host.creds');
    await nats.credentials(credentialsFile, { denyPublish: ['$JS.API.STREAM.INFO.>'] });
    // The fleet's administrator made the bucket: the host could not (making one looks at the stream).
    await nats.credentials(join(dir, 'admin.creds'));
    const admin = await openClients({ servers: [nats.url], hostname: 'admin', credentialsFile: join(dir, 'admin.creds') }, 5_000);
    await admin.bucket('certsmith-status');
    await admin.nc.close();
  }, 30_000);
  afterAll(async () => {
    await nats?.stop();
  });
  const publish = async (stateDir: string, targets: number) =>
    ((await hostContributions(nats.url, 'quiet.example.test', { credentialsFile }, { stateDir, now: NOW })).fleet[0] as FleetLink & StatusSink).publish(
      statusOf('quiet.example.test', targets),
      report,
      AbortSignal.timeout(10_000),
    );

  it('says nothing while its status fits and records no parts, so it does not look again; says it once it writes parts', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-denied-'));
    expect(await publish(stateDir, 2)).toEqual({ detail: '1 messages sent', warnings: [] });
    expect(JSON.parse(await readFile(join(stateDir, 'fleet-report.json'), 'utf8'))).not.toHaveProperty('parts');
    const inParts = await publish(stateDir, 60);
    expect(inParts.detail).toBe('1 messages sent');
    expect(inParts.warnings).toEqual([
      expect.stringMatching(/^the old parts of the status under quiet_example_test cannot be removed \(.*\): the next report tries again$/),
    ]);
    expect(JSON.parse(await readFile(join(stateDir, 'fleet-report.json'), 'utf8'))).toHaveProperty('parts', true);
  });
});

describe('a status that would need more parts than a reader takes (real nats-server, max_payload 1,100)', () => {
  let nats: Nats;
  beforeAll(async () => {
    nats = await startNats({ jetstream: true, maxPayload: 1_100 });
  }, 30_000);
  afterAll(async () => {
    await nats?.stop();
  });

  it('is not written, says why in one warning naming the key, and is not recorded as reported', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-tiny-'));
    const status = statusOf('huge.example.test', 2_000);
    const size = Buffer.byteLength(JSON.stringify({ host: 'huge.example.test', reportedAt: NOW.toISOString(), status }));
    expect(partCount(size, 1_100)).toBeGreaterThan(MAX_PARTS);
    const host = (await hostContributions(nats.url, 'huge.example.test', {}, { stateDir, now: NOW })).fleet[0] as FleetLink & StatusSink;
    const outcome = await host.publish(status, report, AbortSignal.timeout(10_000));
    expect(outcome).toEqual({
      detail: '0 messages sent',
      warnings: [
        `FLEET_MESSAGE_TOO_LARGE: the status under huge_example_test in bucket certsmith-status is ${size} bytes, which at the NATS server's max_payload of 1100 (less ${HEADER_ROOM} for headers) takes ${partCount(size, 1_100)} parts, over the ${MAX_PARTS} a reader takes: not sent (raise max_payload in its configuration)`,
      ],
    });
    await expect(readFile(join(stateDir, 'fleet-report.json'), 'utf8')).rejects.toThrow(/ENOENT/);
    const clients = await openClients({ servers: [nats.url], hostname: 'test' }, 5_000);
    await expect((await clients.manager()).streams.info('KV_certsmith-status')).rejects.toThrow(/stream not found/);
    await clients.nc.close();
  });
});
