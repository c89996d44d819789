// The transport's bounds: its own deadline, and the caller's abort, each ending a request the CA never answers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeError } from './problem.js';
import { AcmeTransport } from './transport.js';

describe('AcmeTransport bounds', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Sends headers and the start of a body, then nothing: only a deadline ends such a request.
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up at its own deadline while the body never ends', async () => {
    const transport = new AcmeTransport({ timeoutMs: 300 });
    const error = await transport.send('GET', url, new AbortController().signal).catch((e: unknown) => e);
    await transport.close();
    expect(error).toBeInstanceOf(AcmeError);
    expect((error as AcmeError).code).toBe('CA_UNREACHABLE');
    expect((error as AcmeError).message).toMatch(/timed out/);
  });

  it("stops when the caller's signal aborts, with the caller's reason", async () => {
    const transport = new AcmeTransport({ timeoutMs: 30_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 100);
    const error = await transport.send('GET', url, controller.signal).catch((e: unknown) => e);
    await transport.close();
    expect((error as Error).message).toBe('interrupted');
  });

  it('names an unreachable CA as CA_UNREACHABLE', async () => {
    const transport = new AcmeTransport({ timeoutMs: 2_000 });
    const error = await transport.send('GET', 'http://127.0.0.1:1/dir', new AbortController().signal).catch((e: unknown) => e);
    await transport.close();
    expect(error).toBeInstanceOf(AcmeError);
    expect((error as AcmeError).code).toBe('CA_UNREACHABLE');
  });
});
