// A fleet whose NATS asks for credentials (operator JWT authentication, Debian's nats-server), through the built CLI:
// a host with a good credentials file reports and shares; one whose file is missing, readable by others or refused
// by the server renews exactly as without a fleet, with one warning naming the file. What the fleet stored is then
// searched for the credential's seed: it never leaves the host. The event stream keeps events the days configured.
import { randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  runCli,
  startAcmeLab,
  startIssuingAcmeDouble,
  startNats,
  type AcmeLab,
  type IssuingAcmeDouble,
  type Nats,
  type NatsUser,
} from '@certsmith/testlab';
import { acmeFleetHostConfig, eventStreamTexts } from '../testing/fleet-hosts.js';

const ZONE = `fleet-creds-${randomBytes(3).toString('hex')}.example.test`;
const EAB = { kid: 'kid-1', hmacKey: randomBytes(32).toString('base64url') };
const HOSTS = ['good', 'missing', 'open', 'refused', 'tls'];
const siteOf = (host: string) => `www.${host}.${ZONE}`;
const DAY_NS = 86_400 * 1e9;

let lab: AcmeLab;
let double: IssuingAcmeDouble;
let nats: Nats;
/** A second NATS that speaks TLS only, with a certificate of the lab's own CA. */
let tlsNats: Nats;
let caFile: string;
let nc: NatsConnection | undefined;
/** The good host's credentials: what must never reach the stream or a bucket. */
let user: NatsUser;
let goodCredentials: string;

beforeAll(async () => {
  [lab, double, nats] = await Promise.all([
    startAcmeLab({ name: 'fleet-creds-e2e', webNames: HOSTS.map(siteOf), pebble: false }),
    startIssuingAcmeDouble({ ari: false }),
    startNats({ jetstream: true, auth: true }),
  ]);
  goodCredentials = join(lab.dir, 'good.creds');
  user = await nats.credentials(goodCredentials);
  const ca = await createCa(join(lab.dir, 'nats-ca'));
  // localhost: the name the NATS client checks in the certificate of a server it reaches on 127.0.0.1.
  const server = await ca.issue('localhost');
  caFile = ca.certFile;
  tlsNats = await startNats({ jetstream: true, tls: { certFile: server.certFile, keyFile: server.keyFile } });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all([double?.stop(), nats?.stop(), tlsNats?.stop()]);
  await lab?.stop();
});

/** One host's config: its site, the ACME issuer at the CA, files installed, the fleet on NATS with these options. */
const hostConfig = (host: string, fleet: Record<string, unknown>): Promise<string> =>
  acmeFleetHostConfig(lab, {
    name: `host-${host}`,
    zone: ZONE,
    targets: [{ id: 'site0', names: [siteOf(host)] }],
    ca: double,
    eab: EAB,
    issuerPatterns: [double.issuerPattern],
    fleet: { servers: [(host === 'tls' ? tlsNats : nats).url], ...fleet },
  });

const env = () => ({ SSL_CERT_FILE: double.rootFile });
const natsWarnings = (stdout: string) => stdout.split('\n').filter((line) => line.includes('Warning (nats):'));

/** A client of the fleet's account, with the good host's credentials (the server admits no one without). */
async function natsClient(): Promise<NatsConnection> {
  nc ??= await connect({ servers: nats.url, authenticator: credsAuthenticator(new Uint8Array(await readFile(goodCredentials))) });
  return nc;
}

describe('a fleet on a NATS that asks for credentials', { timeout: 180_000 }, () => {
  it('a host with a good credentials file renews, reports, and the event stream keeps events the days configured', async () => {
    const config = await hostConfig('good', { credentialsFile: goodCredentials, eventRetentionDays: 7 });
    const run = await runCli(['check', '--config', config], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Issued by "acme"');
    expect(natsWarnings(run.stdout)).toEqual([]);
    expect(run.stdout).toMatch(/Status \(nats\): \d+ messages sent/);
    const stream = await (await jetstreamManager(await natsClient())).streams.info('CERTSMITH_EVENTS');
    expect(stream.config).toMatchObject({ max_age: 7 * DAY_NS, duplicate_window: 2 * DAY_NS });
    expect(stream.state.messages).toBeGreaterThan(0);
  });

  it.each([
    ['missing', async (file: string) => file, (file: string) => `credentials file ${file} cannot be read (ENOENT)`],
    [
      'open',
      async (file: string) => {
        await nats.credentials(file);
        await chmod(file, 0o644);
        return file;
      },
      (file: string) => `credentials file ${file} has mode 0644: it must be 0600 or stricter`,
    ],
    [
      'refused',
      async (file: string) => {
        await nats.credentials(file, { refused: true });
        return file;
      },
      (file: string) => `credentials file ${file} refused by the server: Authorization Violation`,
    ],
  ])('a host whose credentials file is %s renews as without a fleet, with one warning naming the file', async (host, make, why) => {
    const file = await make(join(lab.dir, `${host}.creds`));
    const config = await hostConfig(host, { credentialsFile: file });
    const run = await runCli(['check', '--config', config], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Issued by "acme"');
    expect(run.stdout).toContain(`installed a certificate from "acme" for files`);
    expect(natsWarnings(run.stdout)).toEqual([expect.stringContaining(why(file))]);
  });

  it('reports over TLS to a server whose certificate the configured CA file vouches for', async () => {
    const config = await hostConfig('tls', { tls: { caFile } });
    const run = await runCli(['check', '--config', config], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(natsWarnings(run.stdout)).toEqual([]);
    expect(run.stdout).toMatch(/Status \(nats\): \d+ messages sent/);
    const client = await connect({ servers: tlsNats.url, tls: { caFile } });
    const kv = await new Kvm(client).open('certsmith-status');
    expect((await kv.get(`host-tls_${ZONE.replace(/\./g, '_')}`))?.json()).toMatchObject({ host: `host-tls.${ZONE}` });
    await client.close();
  });

  it('refuses an event retention under the duplicate window with exit 2 and one line naming the field', async () => {
    const config = await hostConfig('good', { credentialsFile: goodCredentials, eventRetentionDays: 1 });
    const run = await runCli(['check', '--config', config], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('eventRetentionDays')]);
  });

  it('publishes no credential, private key or EAB secret: the stream and every bucket are searched for the seed', async () => {
    const client = await natsClient();
    const texts = await eventStreamTexts(client);
    const kvm = new Kvm(client);
    for await (const bucket of kvm.list()) {
      const kv = await kvm.open(bucket.bucket);
      for await (const key of await kv.keys()) texts.push(`${key}\n${(await kv.get(key))?.string() ?? ''}`);
    }
    // The good host's events and status at least.
    expect(texts.length).toBeGreaterThan(3);
    expect(texts.some((t) => t.includes(`host-good.${ZONE}`))).toBe(true);
    const installedKey = await readFile(join(lab.dir, 'ssl-host-good', 'live', 'site0', 'privkey.pem'), 'utf8');
    const secrets = [user.seed, user.seed.slice(2, 30), 'NKEY SEED', 'PRIVATE KEY', EAB.hmacKey, installedKey.split('\n')[1]!];
    for (const secret of secrets) expect(texts.filter((t) => t.includes(secret))).toEqual([]);
  });
});
