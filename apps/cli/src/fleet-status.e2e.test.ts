// What `fleet status` makes of what is in the bucket, end to end: the built CLI against Debian's nats-server. One host
// reports through `check`; the others are values put into the status bucket with a KV client, as a host of another
// version, a bug or a hand-written put would leave them. Two views: one now, one with the viewer's clock moved three
// days on (CERTSMITH_FAKE_NOW), while the server's own time of each report stays when it was written.
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli, startNats, type Nats } from '@certsmith/testlab';
import { fileKey, filesFleetHostConfig } from '../testing/fleet-hosts.js';

const BUCKET = 'certsmith-status';
const DAY = 86_400_000;

let nats: Nats;
let dir: { path: string; cleanup: () => Promise<void> };
let nc: NatsConnection;

beforeAll(async () => {
  [nats, dir] = await Promise.all([startNats({ jetstream: true }), labDir('fleet-status')]);
  nc = await connect({ servers: nats.url });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
  await dir?.cleanup();
});

/** A host with one healthy target (a self-signed certificate from files: nothing is ordered), reporting to the fleet. */
const realHost = async (name: string): Promise<string> =>
  filesFleetHostConfig(dir.path, name, nats.url, [{ id: 'site', names: [`site.${name}.fleet.test`] }], await fileKey());

// A status document as a host writes it, with only what the view reads filled in.
const service = (notAfter: Date) => ({
  service: 'files',
  file: null,
  certificate: {
    subject: '',
    issuer: 'Lab CA',
    serial: '01',
    notBefore: new Date(notAfter.getTime() - 90 * DAY).toISOString(),
    notAfter: notAfter.toISOString(),
    names: [],
    selfSigned: false,
  },
  profile: null,
  daysLeft: Math.floor((notAfter.getTime() - Date.now()) / DAY),
  renewal: { due: false, rule: 'lifetime', dueAt: null, reason: 'a third of its lifetime left' },
  missingNames: [],
});
const pending = (createdAt: Date) => ({
  issuer: 'acme',
  order: `https://ca.test/order/${createdAt.getTime()}`,
  names: [],
  createdAt: createdAt.toISOString(),
  waitedSeconds: Math.floor((Date.now() - createdAt.getTime()) / 1000),
  heldBy: '',
});
const target = (id: string, over: Record<string, unknown> = {}) => ({
  target: id,
  names: [],
  services: [service(new Date(Date.now() + 60 * DAY))],
  pending: [],
  lastRun: null,
  ...over,
});
const documentOf = (host: string, targets: unknown[], reportedAt = new Date()) => ({
  host,
  reportedAt: reportedAt.toISOString(),
  status: { hostname: host, config: '/etc/certsmith/config.json', now: reportedAt.toISOString(), lastRun: null, targets },
});

interface FleetJson {
  items: { kind: string; host: string; target?: string; detail: string }[];
  hosts: { host: string; targets: number; silent: boolean }[];
  warnings: string[];
}

async function fleetStatus(config: string, env: NodeJS.ProcessEnv = {}): Promise<{ json: FleetJson; lines: string[] }> {
  const [json, human] = await Promise.all([
    runCli(['fleet', 'status', '--json', '--config', config], { env }),
    runCli(['fleet', 'status', '--config', config], { env }),
  ]);
  for (const run of [json, human]) {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  }
  return { json: JSON.parse(json.stdout) as FleetJson, lines: human.stdout.trimEnd().split('\n') };
}

describe('fleet status against a bucket with what hosts left in it', { timeout: 120_000 }, () => {
  it('leaves out malformed values with one warning per key, takes figures against now, and judges silence by the server', async () => {
    const config = await realHost('real');
    const check = await runCli(['check', '--config', config]);
    expect([check.code, check.stderr]).toEqual([0, '']);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('Status (nats): 1 messages sent');
    const kv: KV = await new Kvm(nc).open(BUCKET);
    const put = (key: string, value: unknown) => kv.put(key, typeof value === 'string' ? value : JSON.stringify(value));
    const now = Date.now();
    const malformed = {
      nullpending_fleet_test: documentOf('nullpending.fleet.test', [
        target('good', { pending: [pending(new Date(now - 3_600_000))] }),
        target('bad', { pending: [null] }),
      ]),
      emptyfailure_fleet_test: documentOf('emptyfailure.fleet.test', [
        target('bad', { lastRun: { at: new Date(now).toISOString(), result: 'failed', actions: [], dropped: [], failures: [{}] } }),
      ]),
      emptypending_fleet_test: documentOf('emptypending.fleet.test', [target('bad', { pending: [{}] })]),
      notjson_fleet_test: 'not json',
    };
    for (const [key, value] of Object.entries(malformed)) await put(key, value);
    // Reported now with two days left: expiring now, expired three days on.
    await put('stale_fleet_test', documentOf('stale.fleet.test', [target('shop', { services: [service(new Date(now + 2 * DAY))] })]));
    // Waits of ten minutes and twenty hours: both "0 days", and the shorter one's target first by name.
    await put(
      'waits_fleet_test',
      documentOf('waits.fleet.test', [
        target('a-short', { pending: [pending(new Date(now - 10 * 60_000))] }),
        target('b-long', { pending: [pending(new Date(now - 20 * 3_600_000))] }),
      ]),
    );
    // A host whose clock runs three days ahead: by its own time it reported at the viewer's moved clock.
    await put('ahead_fleet_test', documentOf('ahead.fleet.test', [target('site')], new Date(now + 3 * DAY)));
    const keyWarnings = (warnings: string[]) => Object.keys(malformed).map((key) => warnings.filter((w) => w.includes(key)));

    // Now: every host but the one whose value is not a status is listed; one warning for each bad key.
    const today = await fleetStatus(config);
    expect(keyWarnings(today.json.warnings)).toEqual([
      [`the status under nullpending_fleet_test in bucket ${BUCKET} has entries that are not sound: targets[1].pending[0] left out`],
      [`the status under emptyfailure_fleet_test in bucket ${BUCKET} has entries that are not sound: targets[0].lastRun.failures[0] left out`],
      [`the status under emptypending_fleet_test in bucket ${BUCKET} has entries that are not sound: targets[0].pending[0] left out`],
      [`the value under notjson_fleet_test in bucket ${BUCKET} is not a status document: left out`],
    ]);
    expect(today.json.warnings).toHaveLength(5);
    expect(today.json.warnings).toContainEqual(expect.stringMatching(/^host ahead\.fleet\.test: its report says it was written at .*: its clock runs ahead$/));
    expect(today.json.hosts.map((h) => [h.host, h.targets, h.silent])).toEqual([
      ['ahead.fleet.test', 1, false],
      ['emptyfailure.fleet.test', 1, false],
      ['emptypending.fleet.test', 1, false],
      ['nullpending.fleet.test', 2, false],
      ['real.fleet.test', 2, false],
      ['stale.fleet.test', 1, false],
      ['waits.fleet.test', 2, false],
    ]);
    expect(today.json.items.map((i) => [i.kind, i.host, i.target])).toEqual([
      // The real host's certificate is self-signed.
      ['defective', 'real.fleet.test', 'site'],
      ['expiring', 'stale.fleet.test', 'shop'],
      ['pending', 'waits.fleet.test', 'b-long'],
      ['pending', 'nullpending.fleet.test', 'good'],
      ['pending', 'waits.fleet.test', 'a-short'],
    ]);
    expect(today.lines[0]).toMatch(/^7 hosts, 9 certificates: 0 expired, 1 defective, 1 expiring within 7 days, 0 due, 3 pending orders,.* 0 hosts silent/);
    expect(today.lines).toContainEqual(expect.stringMatching(/^ {2}PENDING {3}waits\.fleet\.test \/ b-long: order at "acme" pending for 20 h$/));
    expect(today.lines).toContain(`  warning: the value under notjson_fleet_test in bucket ${BUCKET} is not a status document: left out`);

    // Three days on by the viewer's clock: the stale host's certificate has expired; every host is silent by the
    // server's time of its report, the one whose own clock claims a fresh report too.
    const later = await fleetStatus(config, { CERTSMITH_FAKE_NOW: new Date(now + 3 * DAY).toISOString() });
    expect(later.json.items.filter((i) => i.host === 'stale.fleet.test').map((i) => i.kind)).toEqual(['expired', 'silent']);
    expect(later.json.items.find((i) => i.kind === 'silent' && i.host === 'ahead.fleet.test')?.detail).toMatch(/by its clock\)$/);
    expect(later.json.hosts.filter((h) => !h.silent)).toEqual([]);
    expect(later.lines[1]).toMatch(/^ {2}EXPIRED {3}stale\.fleet\.test \/ shop \/ files: expired /);
    expect(later.lines[0]).toMatch(/ 7 hosts silent for more than 2 days;/);
  });
});
