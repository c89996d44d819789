import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticHttpOptions {
  address: string;
  /** 0 (default) lets the system choose. */
  port?: number;
  /** URL path → body. */
  files?: Record<string, Uint8Array | string>;
  /** Wait this long before answering (a slow responder); Infinity never answers. */
  delayMs?: number;
}

export interface StaticHttp {
  address: string;
  port: number;
  url(path: string): string;
  /** Replaces or adds a file while running. */
  put(path: string, body: Uint8Array | string): void;
  /** Requests seen, by path, with their method. */
  requests: { method: string; path: string }[];
  stop(): Promise<void>;
}

/** A tiny HTTP server on a loopback address: serves fixed bodies (CRLs, OCSP responses), or stalls on purpose. */
export async function startStaticHttp(options: StaticHttpOptions): Promise<StaticHttp> {
  const files = new Map(Object.entries(options.files ?? {}));
  const requests: StaticHttp['requests'] = [];
  const pending = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ method: req.method ?? 'GET', path });
    req.resume();
    const answer = () => {
      pending.delete(res);
      const body = files.get(path);
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(body) }).end(body);
    };
    pending.add(res);
    const delay = options.delayMs ?? 0;
    if (delay === Infinity) return;
    if (delay > 0) setTimeout(answer, delay).unref();
    else answer();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    address: options.address,
    port,
    url: (path) => `http://${options.address}:${port}${path}`,
    put: (path, body) => void files.set(path, body),
    requests,
    async stop() {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
