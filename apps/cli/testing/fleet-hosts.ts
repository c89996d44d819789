// For the fleet's end-to-end tests: the hosts they run (a config each) and what they read back from NATS. Test-only:
// tsconfig.lib.json builds src/ alone, so nothing here is shipped.
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSelfSigned } from '@certsmith/x509';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CLI_UNDER_TEST_PATH, cliNodeFlags, type AcmeLab, type LabCaEndpoint } from '@certsmith/testlab';

const NO_SERVER_SERVICES = { cpanel: false, dovecot: false, exim: false, ftp: false };

/** What an ACME host of the fleet is: its name, its targets (installed as files), its CA and its fleet options. */
export interface AcmeFleetHost {
  /** The config's name in the lab (also the ACME account's); the hostname is `<name>.<zone>`. */
  name: string;
  zone: string;
  targets: { id: string; names: string[] }[];
  ca: LabCaEndpoint;
  eab: { kid: string; hmacKey: string };
  /** The issuer's issuerPatterns, when the CA's chain is one the run must recognise. */
  issuerPatterns?: string[];
  /** The fleet-nats plugin's options, servers included. */
  fleet: Record<string, unknown>;
}

/** A host's config in the ACME lab: HTTP DCV on the lab's nginx, the ACME issuer at the CA, files installed, the fleet. */
export async function acmeFleetHostConfig(lab: AcmeLab, host: AcmeFleetHost): Promise<string> {
  const patterns = host.issuerPatterns ? { issuerPatterns: host.issuerPatterns } : {};
  return lab.writeConfig(host.name, {
    hostname: `${host.name}.${host.zone}`,
    services: NO_SERVER_SERVICES,
    plugins: [
      lab.httpDcvPlugin,
      { module: '@certsmith/issuer-acme', options: { ...(await lab.acmeIssuerOptions(host.name, { ca: host.ca, eab: host.eab })), ...patterns } },
      { module: '@certsmith/installer-files' },
      { module: '@certsmith/fleet-nats', options: host.fleet },
    ],
    issuers: ['acme'],
    targets: host.targets.map((t) => ({ ...t, services: ['files'] })),
  });
}

/** Starts a host's `check` run that the test may kill (SIGKILL, as a host dies); `ended` gives the signal that ended it. */
export function startCheck(config: string, env: NodeJS.ProcessEnv): { kill: () => void; ended: Promise<NodeJS.Signals | null> } {
  const child = spawn(process.execPath, [...cliNodeFlags(CLI_UNDER_TEST_PATH), CLI_UNDER_TEST_PATH, 'check', '--config', config], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  return { kill: () => child.kill('SIGKILL'), ended };
}

/** The text of every message the fleet's event stream still holds. */
export async function eventStreamTexts(client: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(client);
  const info = await jsm.streams.info('CERTSMITH_EVENTS');
  const texts: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await jsm.streams.getMessage('CERTSMITH_EVENTS', { seq }).catch(() => null);
    if (message) texts.push(message.string());
  }
  return texts;
}

/** A P-256 key pair and its private key as PKCS#8 PEM, for certificates written as files. */
export interface FileKey {
  keys: webcrypto.CryptoKeyPair;
  keyPem: string;
}

export async function fileKey(): Promise<FileKey> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { keys, keyPem };
}

/**
 * A host `<name>.fleet.test` under `<dir>/<name>` whose targets are healthy from files: a self-signed certificate of
 * 80 days for each, with `key`, in installer-files' layout (<sslDir>/live/<id>/), and no issuer, so nothing is ordered.
 * It reports to the fleet on `natsUrl`. Returns its config file.
 */
export async function filesFleetHostConfig(
  dir: string,
  name: string,
  natsUrl: string,
  targets: { id: string; names: string[] }[],
  key: FileKey,
): Promise<string> {
  const root = join(dir, name);
  await Promise.all(targets.map((t) => writeSelfSignedLive(join(root, 'ssl', 'live', t.id), t.names, key)));
  const config = join(root, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      hostname: `${name}.fleet.test`,
      paths: { stateDir: './state', sslDir: './ssl' },
      inspection: { live: false },
      services: NO_SERVER_SERVICES,
      plugins: [{ module: '@certsmith/installer-files' }, { module: '@certsmith/fleet-nats', options: { servers: [natsUrl] } }],
      targets: targets.map((t) => ({ ...t, services: ['files'] })),
    }),
  );
  return config;
}

async function writeSelfSignedLive(live: string, names: string[], key: FileKey): Promise<void> {
  await mkdir(live, { recursive: true });
  const pem = await createSelfSigned({ names, keys: key.keys, spec: { type: 'ecdsa-p256' }, validityDays: 80, now: new Date() });
  await Promise.all([
    writeFile(join(live, 'fullchain.pem'), pem),
    writeFile(join(live, 'cert.pem'), pem),
    writeFile(join(live, 'chain.pem'), ''),
    writeFile(join(live, 'privkey.pem'), key.keyPem, { mode: 0o600 }),
  ]);
}
