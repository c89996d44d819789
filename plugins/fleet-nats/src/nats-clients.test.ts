// Connecting to real nats-servers with a credentials file (operator JWT authentication) and over TLS: a credential
// that is missing, readable by others or refused by the server is named, and nothing is tried with it.
import { createCa, startNats, type Nats } from '@certsmith/testlab';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsRefused, openClients } from './nats-clients.js';

describe('openClients against a real nats-server', () => {
  let dir: string;
  let auth: Nats;
  let tls: Nats;
  let caFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-nats-clients-'));
    const ca = await createCa(join(dir, 'ca'));
    // localhost: the name the NATS client checks in the certificate of a server it reaches on 127.0.0.1.
    const server = await ca.issue('localhost');
    caFile = ca.certFile;
    [auth, tls] = await Promise.all([startNats({ jetstream: true, auth: true }), startNats({ tls: { certFile: server.certFile, keyFile: server.keyFile } })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([auth?.stop(), tls?.stop()]);
  });

  const connectWith = (nats: Nats, options: { credentialsFile?: string; tls?: { caFile?: string; keyFile?: string } }) =>
    openClients({ servers: [nats.url], hostname: 'test', ...options }, 5_000);

  it('connects with a credentials file of mode 0600 and uses JetStream with it', async () => {
    const file = join(dir, 'host.creds');
    await auth.credentials(file);
    const clients = await connectWith(auth, { credentialsFile: file });
    expect((await (await clients.bucket('with-creds')).put('k', 'v')) > 0).toBe(true);
    await clients.nc.close();
  });

  it('names the credentials file the server refuses', async () => {
    const file = join(dir, 'foreign.creds');
    await auth.credentials(file, { refused: true });
    const refused = await connectWith(auth, { credentialsFile: file }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CredentialsRefused);
    expect((refused as Error).message).toBe(`credentials file ${file} refused by the server: Authorization Violation`);
  });

  it('refuses a credentials file others may read, or one that is missing, before connecting', async () => {
    const file = join(dir, 'open.creds');
    await auth.credentials(file);
    await chmod(file, 0o644);
    await expect(connectWith(auth, { credentialsFile: file })).rejects.toThrow(`credentials file ${file} has mode 0644: it must be 0600 or stricter`);
    const missing = join(dir, 'missing.creds');
    await expect(connectWith(auth, { credentialsFile: missing })).rejects.toThrow(`credentials file ${missing} cannot be read (ENOENT)`);
  });

  it('connects over TLS to a server whose certificate the CA file vouches for; a TLS key others may read is refused', async () => {
    const clients = await connectWith(tls, { tls: { caFile } });
    expect(clients.nc.info?.tls_required).toBe(true);
    await clients.nc.close();
    const key = join(dir, 'client-key.pem');
    await writeFile(key, 'not read', { mode: 0o640 });
    await chmod(key, 0o640);
    await expect(connectWith(tls, { tls: { caFile, keyFile: key } })).rejects.toThrow(`TLS key file ${key} has mode 0640: it must be 0600 or stricter`);
  });
});
