// A fleet end to end: several certsmith hosts (each its own config, state and ssl directories, its own ACME account)
// run the built CLI against one NATS JetStream (Debian's nats-server), one CA (the testlab's ACME doubles, which record
// when each request arrived) and the lab's BIND and nginx. What is asserted is what the CA saw and what each host did:
// the fleet's bound on orders in flight, a rate limit met by one host holding the others back, a renewal that goes on
// when NATS dies, its spool sent once NATS is back, a dead host's lease freed by its TTL, and `fleet status`.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runCli,
  startAcmeLab,
  startIssuingAcmeDouble,
  startNats,
  startRateLimitingAcmeDouble,
  type AcmeLab,
  type IssuingAcmeDouble,
  type IssuingAcmeDoubleRequest,
  type Nats,
  type RateLimitingAcmeDouble,
} from '@certsmith/testlab';
import { acmeFleetHostConfig, eventStreamTexts, startCheck } from '../testing/fleet-hosts.js';

const ZONE = `fleet-${randomBytes(3).toString('hex')}.example.test`;
const EAB = { kid: 'kid-1', hmacKey: randomBytes(32).toString('base64url') };
const HOSTS = ['a', 'b', 'c'];
const siteNames = (host: string, i: number) => [`s${i}.${host}.${ZONE}`];
/** A site that moved from host d to host e: both hold it (a migration, when rate-limit avalanches happen). */
const MOVED = [`moved.${ZONE}`];
const LEASE_SECONDS = 4;

let lab: AcmeLab;
let double: IssuingAcmeDouble;
let limiting: RateLimitingAcmeDouble;
let nats: Nats;
let nc: NatsConnection | undefined;

beforeAll(async () => {
  const webNames = [...['a', 'b', 'c', 'f', 'g', 'h'].flatMap((h) => [...siteNames(h, 0), ...siteNames(h, 1)]), ...MOVED];
  [lab, double, limiting, nats] = await Promise.all([
    startAcmeLab({ name: 'fleet-e2e', webNames, pebble: false }),
    startIssuingAcmeDouble({ ari: false }),
    startRateLimitingAcmeDouble(),
    startNats({ jetstream: true }),
  ]);
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all([double?.stop(), limiting?.stop(), nats?.stop()]);
  await lab?.stop();
});

interface HostSetup {
  names?: string[][];
  ordersInFlight?: number;
  ca?: 'issuing' | 'limiting';
}

/** One host's config: its two sites (or `names`), the ACME issuer at the CA, files installed, the fleet on NATS. */
async function hostConfig(host: string, setup: HostSetup = {}): Promise<{ config: string; state: string }> {
  const name = `host-${host}`;
  const names = setup.names ?? [siteNames(host, 0), siteNames(host, 1)];
  const config = await acmeFleetHostConfig(lab, {
    name,
    zone: ZONE,
    targets: names.map((n, i) => ({ id: `site${i}`, names: n })),
    ca: setup.ca === 'limiting' ? limiting : double,
    eab: EAB,
    issuerPatterns: setup.ca === 'limiting' ? undefined : [double.issuerPattern],
    fleet: { servers: [nats.url], ordersInFlight: setup.ordersInFlight ?? 2, leaseSeconds: LEASE_SECONDS },
  });
  return { config, state: join(lab.dir, `state-${name}`) };
}

const env = () => ({ SSL_CERT_FILE: double.rootFile });

/**
 * The most orders the CA had in flight at once: an order counts from its newOrder request until its certificate is
 * fetched (the client holds its slot until after that), as the CA saw the requests arrive.
 */
function mostInFlight(requests: IssuingAcmeDoubleRequest[]): number {
  const steps = requests
    .filter((r) => (r.path === '/new-order' && r.method === 'POST') || r.path.startsWith('/cert/'))
    .map((r) => ({ at: r.at, step: r.path === '/new-order' ? 1 : -1 }))
    .sort((x, y) => x.at - y.at || x.step - y.step);
  let now = 0;
  let most = 0;
  for (const { step } of steps) most = Math.max(most, (now += step));
  return most;
}

/** Starts a host's `check` run that the test may kill (SIGKILL, as a host dies). */
const startRun = (config: string) => startCheck(config, env());

/** The message ids of the events a spool file holds (one JSON message a line). */
const spooledEventIds = (spool: string): string[] =>
  spool
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { kind: string; msgID?: string })
    .filter((m) => m.kind === 'event')
    .map((m) => m.msgID!);

async function natsClient(): Promise<NatsConnection> {
  nc ??= await connect({ servers: nats.url });
  return nc;
}

/** Every message of the events stream whose subject is this host's: subject and message id. */
async function eventsOf(host: string): Promise<{ subject: string; id: string }[]> {
  const jsm = await jetstreamManager(await natsClient());
  const info = await jsm.streams.info('CERTSMITH_EVENTS');
  const found: { subject: string; id: string }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await jsm.streams.getMessage('CERTSMITH_EVENTS', { seq }).catch(() => null);
    if (message?.subject.startsWith(`certsmith.events.${host}.`)) found.push({ subject: message.subject, id: message.header.get('Nats-Msg-Id') });
  }
  return found;
}

describe('a fleet of certsmith hosts on one NATS', { timeout: 180_000 }, () => {
  it('the CA never has more orders in flight than the fleet bound, and fleet status lists every host', async () => {
    // A finalization that takes a second keeps each order in flight long enough for the hosts' orders to overlap.
    double.behave({ delay: { path: /^\/finalize\//, ms: 1_000 } });
    const hosts = await Promise.all(HOSTS.map((h) => hostConfig(h, { ordersInFlight: 2 })));
    const from = double.requests.length;
    const runs = await Promise.all(hosts.map(({ config }) => runCli(['check', '--config', config], { env: env() })));
    for (const run of runs) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Issued by "acme"');
      expect(run.stdout).toContain('Status (nats):');
    }
    const requests = double.requests.slice(from);
    expect(requests.filter((r) => r.path === '/new-order' && r.method === 'POST')).toHaveLength(6);
    // Three hosts of two sites each would have six orders at the CA at once; the fleet allows two.
    expect(mostInFlight(requests)).toBe(2);
    double.behave({ delay: undefined });

    // Host a's next run reports its changed status (its sites' last run is now healthy); the run after that has
    // nothing new and sends nothing: the fleet keeps that report, and fleet status still sees the host by it.
    const second = await runCli(['check', '--config', hosts[0]!.config], { env: env() });
    expect(second.stdout).toContain('Status (nats): 1 messages sent');
    const third = await runCli(['check', '--config', hosts[0]!.config], { env: env() });
    expect(third.code).toBe(0);
    const kept = /Status \(nats\): nothing new since the report of (\S+): not sent\n/.exec(third.stdout)?.[1];
    expect(kept).toBeDefined();

    const human = await runCli(['fleet', 'status', '--config', hosts[0]!.config]);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^3 hosts, 6 certificates: 0 expired, 0 defective, 0 expiring within 7 days, 0 due, 0 pending orders/);
    const json = await runCli(['fleet', 'status', '--json', '--config', hosts[0]!.config]);
    const report = JSON.parse(json.stdout) as { hosts: { host: string; silent: boolean; targets: number }[] };
    expect(report.hosts.filter((h) => h.host.endsWith(ZONE))).toEqual(
      // Each host's own hostname target and its two sites.
      HOSTS.map((h) => ({ host: `host-${h}.${ZONE}`, silent: false, targets: 3, reportedAt: expect.any(String) })),
    );
    expect(report.hosts.find((h) => h.host === `host-a.${ZONE}`)).toMatchObject({ reportedAt: kept, silent: false });
  });

  it('a rate limit one host meets keeps the other host from asking the CA for those names', async () => {
    limiting.behave({ answer: 'rateLimited', retryAfter: '10800' });
    const d = await hostConfig('d', { names: [MOVED], ca: 'limiting' });
    const e = await hostConfig('e', { names: [MOVED], ca: 'limiting' });
    const first = await runCli(['check', '--config', d.config], { env: env() });
    expect(first.stdout).toContain('ACME_RATE_LIMITED');
    const asked = limiting.orders().length;
    const second = await runCli(['check', '--config', e.config], { env: env() });
    expect(second.stderr).toBe('');
    expect(second.stdout).toContain(`RATE_LIMITED: not asking "acme" for ${MOVED[0]} until `);
    // Host e never asked: the limit host d met held it back.
    expect(limiting.orders()).toHaveLength(asked);
    const status = await runCli(['fleet', 'status', '--config', e.config]);
    expect(status.stdout).toContain(`"acme" ${MOVED[0]} until`);
    expect(status.stdout).toContain(`(met by host-d.${ZONE})`);
    expect(status.stdout).toMatch(new RegExp(`HELD +host-e\\.${ZONE.replace(/\./g, '\\.')} / site0`));
  });

  it('a renewal goes on when NATS dies in the middle of it; the spool reaches the stream once NATS is back, without duplicates', async () => {
    let held!: () => void;
    const finalizing = new Promise<void>((resolve) => (held = resolve));
    double.behave({ delay: { path: /^\/finalize\//, ms: 1_500, onHold: () => held() } });
    const f = await hostConfig('f');
    const run = runCli(['check', '--config', f.config], { env: env() });
    await finalizing;
    await nats.kill();
    const first = await run;
    double.behave({ delay: undefined });
    expect(first.code).toBe(0);
    expect(first.stdout.match(/installed a certificate from "acme" for files/g) ?? []).toHaveLength(2);
    expect(first.stdout).toContain('Warning (nats):');
    const spool = (await readdir(f.state)).find((file) => file.startsWith('fleet-spool'));
    expect(spool).toBeDefined();
    const spoolFile = join(f.state, spool!);
    expect((await stat(spoolFile)).mode & 0o777).toBe(0o600);
    const spooled = await readFile(spoolFile, 'utf8');
    const spooledIds = spooledEventIds(spooled);

    // Asked while NATS is down, fleet status says so in one line and exits 1.
    const unreachable = await runCli(['fleet', 'status', '--config', f.config]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^certsmith: .*${nats.url.replace(/[.]/g, '\\.')}`))]);

    await nats.restart();
    nc = undefined;
    const second = await runCli(['check', '--config', f.config], { env: env() });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('Warning (nats):');
    expect((await readdir(f.state)).some((file) => file.startsWith('fleet-spool'))).toBe(false);
    const host = `host-f_${ZONE.replace(/\./g, '_')}`;
    const events = await eventsOf(host);
    // Exactly the spooled events reached the stream, each once: the first run's, with its two installs. The second
    // run, healthy, sent the spool and its status, not its routine inspections.
    expect(events.map((e) => e.id).sort()).toEqual([...spooledIds].sort());
    expect(new Set(spooledIds).size).toBe(spooledIds.length);
    expect(events.filter((e) => e.subject.endsWith('.installed'))).toHaveLength(2);
    expect(new Set(events.map((e) => e.id.split('.')[1])).size).toBe(1);

    // The spool sent again, as by a run that died after sending it and before removing it: every event goes out a
    // second time with its message id, and the stream stores none of them twice.
    await writeFile(spoolFile, spooled, { mode: 0o600 });
    const third = await runCli(['check', '--config', f.config], { env: env() });
    expect(third.code).toBe(0);
    expect(third.stdout).not.toContain('Warning (nats):');
    expect(third.stdout).toContain(`Status (nats): ${spooledIds.length + 1} messages sent`);
    expect((await readdir(f.state)).some((file) => file.startsWith('fleet-spool'))).toBe(false);
    expect(await eventsOf(host)).toEqual(events);
  });

  it("a host killed in the middle of an order holds its slot until the lease's TTL frees it; then the next host's order goes through", async () => {
    const g = await hostConfig('g', { names: [siteNames('g', 0)], ordersInFlight: 1 });
    const h = await hostConfig('h', { names: [siteNames('h', 0)], ordersInFlight: 1 });
    // The CA holds host g's finalization: by then g has taken the fleet's one slot and placed its order. It dies there.
    let finalizing!: () => void;
    const held = new Promise<void>((resolve) => (finalizing = resolve));
    double.behave({ delay: { path: /^\/finalize\//, ms: 2_000, onHold: () => finalizing() } });
    const leases = await new Kvm(await natsClient()).open('certsmith-leases');
    const from = double.requests.length;
    const dying = startRun(g.config);
    await held;
    // The lease is read while host g holds it: after the kill its TTL may run out before a slow machine gets here. A
    // refresh after this read only moves its expiry later, so the bound below still holds.
    const left = await leases.get('lease.acme.0');
    dying.kill();
    expect(await dying.ended).toBe('SIGKILL');
    double.behave({ delay: undefined });
    expect(left?.operation).toBe('PUT');
    expect(left?.json()).toMatchObject({ host: `host-g.${ZONE}` });

    const run = await runCli(['check', '--config', h.config], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Issued by "acme"');
    const requests = double.requests.slice(from);
    const orderFor = (name: string) =>
      requests.filter((r) => r.path === '/new-order' && r.method === 'POST' && JSON.stringify(r.payload).includes(`"${name}"`));
    expect(orderFor(siteNames('g', 0)[0]!)).toHaveLength(1);
    const [order] = orderFor(siteNames('h', 0)[0]!);
    // Host h's order reached the CA only once the dead host's lease had lapsed (the bucket's TTL is the lease time).
    expect(order!.at).toBeGreaterThanOrEqual(left!.created.getTime() + LEASE_SECONDS * 1000);
    // And host h gave its slot back when its order was done.
    expect((await leases.get('lease.acme.0'))?.operation).not.toBe('PUT');
  });

  it('publishes no private key, EAB secret or credential: the whole stream and every bucket are searched', async () => {
    const client = await natsClient();
    const texts = await eventStreamTexts(client);
    for (const bucket of ['certsmith-status', 'certsmith-ledger', 'certsmith-leases']) {
      const kv = await new Kvm(client).open(bucket);
      for await (const key of await kv.keys()) texts.push((await kv.get(key))?.string() ?? '');
    }
    expect(texts.length).toBeGreaterThan(50);
    // A line of a key the fleet's first test installed, the EAB secret every host has, any PEM key at all.
    const installedKey = await readFile(join(lab.dir, 'ssl-host-a', 'live', 'site0', 'privkey.pem'), 'utf8');
    const secrets = ['PRIVATE KEY', EAB.hmacKey, installedKey.split('\n')[1]!];
    for (const secret of secrets) expect(texts.filter((t) => t.includes(secret))).toEqual([]);
  });
});
