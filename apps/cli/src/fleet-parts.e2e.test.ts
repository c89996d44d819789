// A host whose status is over the NATS server's max_payload, end to end: the built CLI's `check` against Debian's
// nats-server started with a max_payload of 16 KB (so that a few dozen targets exceed it, as a thousand do at the
// default 1 MB), then `fleet status --json`. The targets are healthy from files (self-signed certificates, no issuer):
// no order is placed. Over several runs: the status written in parts and seen whole, replaced by a new generation
// whose predecessor leaves no key, back to one value once it fits, and a forged part said and its host left out.
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli, startNats, type Nats } from '@certsmith/testlab';
import { fileKey, filesFleetHostConfig, type FileKey } from '../testing/fleet-hosts.js';

const MAX_PAYLOAD = 16_384;
const BUCKET = 'certsmith-status';

let nats: Nats;
let dir: { path: string; cleanup: () => Promise<void> };
let nc: NatsConnection;
let key: FileKey;

beforeAll(async () => {
  [nats, dir] = await Promise.all([startNats({ jetstream: true, maxPayload: MAX_PAYLOAD }), labDir('fleet-parts')]);
  nc = await connect({ servers: nats.url });
  // One key for every target: the run checks that each certificate matches it, whichever key it is.
  key = await fileKey();
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  await dir?.cleanup();
});

/** Host `name`'s config with `count` healthy targets (their certificates written once), reporting to the fleet. */
const hostConfig = (name: string, count: number): Promise<string> =>
  filesFleetHostConfig(
    dir.path,
    name,
    nats.url,
    Array.from({ length: count }, (_, i) => ({ id: `t${i}`, names: [`site${i}.${name}.fleet.test`, `www.site${i}.${name}.fleet.test`] })),
    key,
  );

async function check(config: string): Promise<string> {
  const run = await runCli(['check', '--config', config]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).not.toContain('Warning (nats)');
  expect(run.stdout).toContain('Status (nats): 1 messages sent');
  return run.stdout;
}

interface FleetJson {
  hosts: { host: string; targets: number }[];
  warnings: string[];
}

async function fleetStatus(config: string): Promise<FleetJson> {
  const run = await runCli(['fleet', 'status', '--json', '--config', config]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as FleetJson;
}

/** The bucket's keys under a host key (the key itself and its parts). */
async function keysUnder(hostKey: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of await (await new Kvm(nc).open(BUCKET)).keys()) if (key === hostKey || key.startsWith(`${hostKey}.`)) found.push(key);
  return found.sort();
}

/** Every message the bucket's stream still holds under the host key's parts: a purge leaves none, not even a tombstone. */
async function partSubjects(hostKey: string): Promise<string[]> {
  const info = await (await jetstreamManager(nc)).streams.info(`KV_${BUCKET}`, { subjects_filter: `$KV.${BUCKET}.${hostKey}.>` });
  return Object.keys(info.state.subjects ?? {});
}

const head = async (hostKey: string) =>
  (await (await new Kvm(nc).open(BUCKET)).get(hostKey))?.json<{ statusParts?: number; generation: string; parts: number }>();

describe('a host whose status is over the NATS server max_payload', { timeout: 180_000 }, () => {
  it('is written in parts and seen whole; the next generation replaces them; it goes back to one value when it fits; a forged part is said', async () => {
    const key = 'big_fleet_test';
    const small = await hostConfig('small', 2);
    await check(small);

    // Run 1: 30 targets, well over 16 KB: parts, then the head.
    const big = await hostConfig('big', 30);
    await check(big);
    const first = await head(key);
    expect(first).toMatchObject({ statusParts: 1 });
    expect(first!.parts).toBeGreaterThan(1);
    expect(await keysUnder(key)).toEqual([key, ...Array.from({ length: first!.parts }, (_, n) => `${key}.${first!.generation}.${n}`)].sort());
    let view = await fleetStatus(small);
    expect(view.warnings).toEqual([]);
    // Each host's hostname target besides its sites.
    expect(view.hosts.map((h) => [h.host, h.targets]).sort()).toEqual([
      ['big.fleet.test', 31],
      ['small.fleet.test', 3],
    ]);

    // Run 2: ten targets more; a new generation, and the first one's keys are gone from the bucket and its stream.
    await hostConfig('big', 40);
    await check(big);
    const second = await head(key);
    expect(second!.generation).not.toBe(first!.generation);
    expect(await keysUnder(key)).toEqual([key, ...Array.from({ length: second!.parts }, (_, n) => `${key}.${second!.generation}.${n}`)].sort());
    expect((await partSubjects(key)).filter((s) => s.includes(first!.generation))).toEqual([]);
    view = await fleetStatus(small);
    expect(view.warnings).toEqual([]);
    expect(view.hosts.find((h) => h.host === 'big.fleet.test')?.targets).toBe(41);

    // Run 3: down to three targets, the status fits: one value as before parts existed, and no part left.
    await hostConfig('big', 3);
    await check(big);
    expect((await head(key))?.statusParts).toBeUndefined();
    expect(await keysUnder(key)).toEqual([key]);
    expect(await partSubjects(key)).toEqual([]);
    expect((await fleetStatus(small)).hosts.find((h) => h.host === 'big.fleet.test')?.targets).toBe(4);

    // Run 4: in parts again, then one part forged: one warning naming the host key, the host left out, nothing else lost.
    await hostConfig('big', 30);
    await check(big);
    const fourth = await head(key);
    const forged = `${key}.${fourth!.generation}.0`;
    const kv = await new Kvm(nc).open(BUCKET);
    const part = (await kv.get(forged))!.string();
    await kv.put(forged, part.replace('site', 'evil'));
    view = await fleetStatus(small);
    expect(view.warnings).toEqual([`the status under ${key} in bucket ${BUCKET} is not whole (its parts do not have the sha256 its head names): left out`]);
    expect(view.hosts.map((h) => h.host)).toEqual(['small.fleet.test']);
    const human = await runCli(['fleet', 'status', '--config', small]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(key);
  });
});
