// The fleet's order slots end to end, in a lease bucket made beforehand without a TTL (by an administrator, or by a tool
// other than certsmith): a host killed in the middle of an order leaves its lease there for ever, as no TTL takes it.
// The next host says the bucket has no TTL and takes the lease over once it is older than the lease, by the server's
// time of its write. Debian's nats-server, the testlab's ACME double and the lab's BIND and nginx; the built CLI.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startAcmeLab, startIssuingAcmeDouble, startNats, type AcmeLab, type IssuingAcmeDouble, type Nats } from '@certsmith/testlab';
import { acmeFleetHostConfig, startCheck } from '../testing/fleet-hosts.js';

const ZONE = `slots-${randomBytes(3).toString('hex')}.example.test`;
const EAB = { kid: 'kid-1', hmacKey: randomBytes(32).toString('base64url') };
const siteName = (host: string) => `site.${host}.${ZONE}`;
const LEASE_SECONDS = 60;
const BUCKET = 'ttl-less-leases';

let lab: AcmeLab;
let double: IssuingAcmeDouble;
let nats: Nats;
let nc: NatsConnection | undefined;

beforeAll(async () => {
  [lab, double, nats] = await Promise.all([
    startAcmeLab({ name: 'fleet-slots-e2e', webNames: ['g', 'h'].map(siteName), pebble: false }),
    startIssuingAcmeDouble({ ari: false }),
    startNats({ jetstream: true }),
  ]);
  nc = await connect({ servers: nats.url });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all([double?.stop(), nats?.stop()]);
  await lab?.stop();
});

/** One host's config: one site, the ACME issuer at the double, files installed, one fleet slot in the TTL-less bucket. */
const hostConfig = (host: string): Promise<string> =>
  acmeFleetHostConfig(lab, {
    name: `host-${host}`,
    zone: ZONE,
    targets: [{ id: 'site', names: [siteName(host)] }],
    ca: double,
    eab: EAB,
    issuerPatterns: [double.issuerPattern],
    fleet: { servers: [nats.url], ordersInFlight: 1, leaseSeconds: LEASE_SECONDS, leaseBucket: BUCKET },
  });

const env = () => ({ SSL_CERT_FILE: double.rootFile });

/** Starts a host's `check` run that the test kills (SIGKILL, as a host dies). */
const startRun = (config: string) => startCheck(config, env());

describe('order slots in a lease bucket made without a TTL', { timeout: 120_000 }, () => {
  it('a host killed in the middle of an order leaves its lease; the next host, past the lease, names the bucket and takes the slot over', async () => {
    const leases = await new Kvm(nc!).create(BUCKET, { history: 1 });
    const [g, h] = await Promise.all([hostConfig('g'), hostConfig('h')]);
    // The CA holds host g's finalization: by then g has taken the fleet's one slot and placed its order. It dies there.
    let finalizing!: () => void;
    const held = new Promise<void>((resolve) => (finalizing = resolve));
    double.behave({ delay: { path: /^\/finalize\//, ms: 2_000, onHold: () => finalizing() } });
    const dying = startRun(g);
    await held;
    dying.kill();
    expect(await dying.ended).toBe('SIGKILL');
    double.behave({ delay: undefined });
    const left = await leases.get('lease.acme.0');
    expect(left?.json()).toMatchObject({ host: `host-g.${ZONE}` });

    // Host h runs with its clock a lease and a second past the server's time of that write: no TTL took the key.
    const later = new Date(left!.created.getTime() + (LEASE_SECONDS + 1) * 1000).toISOString();
    const from = double.requests.length;
    const run = await runCli(['check', '--config', h], { env: { ...env(), CERTSMITH_FAKE_NOW: later } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Issued by "acme"');
    expect(run.stdout.match(new RegExp(`lease bucket ${BUCKET} has no TTL`, 'g'))).toHaveLength(1);
    expect(run.stdout).not.toContain('is not usable');
    // On the run's bus (its event log) the warning keeps its own code: NATS was never unreachable.
    const codes = (await failedCodes(join(dirname(h), `state-${basename(h, '.json')}`, 'logs'))).filter((c) => c.startsWith('FLEET_'));
    expect(codes).toEqual(['FLEET_LEASE_BUCKET_TTL']);
    const orders = double.requests.slice(from).filter((r) => r.path === '/new-order' && r.method === 'POST');
    expect(orders).toHaveLength(1);
    // Host h took the dead lease over at its revision, then gave the slot back when its order was done.
    const after = await leases.get('lease.acme.0');
    expect(after?.revision).toBeGreaterThan(left!.revision);
    expect(after?.operation).not.toBe('PUT');
  });
});

/** The codes of the `failed` events in the event logs under `dir`. */
async function failedCodes(dir: string): Promise<string[]> {
  const logs = await Promise.all((await readdir(dir)).map((name) => readFile(join(dir, name), 'utf8')));
  const events = logs.flatMap((text) => text.split('\n').filter(Boolean)).map((line) => JSON.parse(line) as { type: string; event: { code?: string } });
  return events.filter((e) => e.type === 'failed').map((e) => e.event.code ?? '');
}
