import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomLoopback } from '@certsmith/testlab';
import { AcmeClient } from './client.js';
import { AccountKey } from './jws.js';
import { AcmeTransport } from './transport.js';

/** A CA with just a directory, newNonce and newAccount; its account answers carry no nonce, so each request needs a fresh one. */
class NonceCa {
  server: Server | undefined;
  base = '';
  readonly hits: string[] = [];
  getAllowed = true;
  private n = 0;
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.hits.push(`${req.method} ${req.url}`);
        if (req.url === '/dir')
          return res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ newNonce: `${this.base}/nonce`, newAccount: `${this.base}/acct`, newOrder: `${this.base}/order` }));
        if (req.url === '/nonce' && req.method === 'HEAD') return res.writeHead(200, { 'replay-nonce': `n${++this.n}` }).end();
        if (req.url === '/nonce' && req.method === 'GET' && this.getAllowed) return res.writeHead(204, { 'replay-nonce': `n${++this.n}` }).end();
        if (req.url === '/nonce') return res.writeHead(405, { allow: 'HEAD' }).end();
        if (req.url === '/acct') return res.writeHead(200, { 'content-type': 'application/json', location: `${this.base}/acct/1` }).end('{"status":"valid"}');
        res.writeHead(404).end();
      });
    });
    const address = randomLoopback();
    await new Promise<void>((resolve) => this.server!.listen(0, address, resolve));
    this.base = `http://${address}:${(this.server.address() as { port: number }).port}`;
  }
}

describe('fresh nonces', () => {
  const ca = new NonceCa();
  let key: AccountKey;
  beforeAll(async () => {
    await ca.start();
    key = await AccountKey.generate('ES256');
  });
  afterAll(() => new Promise((resolve) => ca.server?.close(resolve)));

  it('are fetched by GET (204, keeps the connection) when the CA allows it', async () => {
    ca.getAllowed = true;
    ca.hits.length = 0;
    const client = new AcmeClient(`${ca.base}/dir`, new AcmeTransport());
    await client.findAccount(key, AbortSignal.timeout(5_000));
    await client.findAccount(key, AbortSignal.timeout(5_000));
    await client.transport.close();
    expect(ca.hits).toEqual(['GET /dir', 'GET /nonce', 'POST /acct', 'GET /nonce', 'POST /acct']);
  });

  it('are fetched by HEAD from the first refusal of GET on, for the rest of the session', async () => {
    ca.getAllowed = false;
    ca.hits.length = 0;
    const client = new AcmeClient(`${ca.base}/dir`, new AcmeTransport());
    await client.findAccount(key, AbortSignal.timeout(5_000));
    await client.findAccount(key, AbortSignal.timeout(5_000));
    await client.transport.close();
    expect(ca.hits).toEqual(['GET /dir', 'GET /nonce', 'HEAD /nonce', 'POST /acct', 'HEAD /nonce', 'POST /acct']);
  });
});
