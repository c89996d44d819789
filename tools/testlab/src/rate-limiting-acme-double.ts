import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createCa } from './certs.js';
import { labDir } from './process.js';
import { randomLoopback } from './loopback.js';

/**
 * A TEST DOUBLE, not a CA: Pebble cannot answer with a rate limit, so this small HTTPS server speaks just enough
 * ACME (RFC 8555) for the rate-limit case: a directory, nonces, account creation, and a newOrder that answers
 * HTTP 429 `application/problem+json` `urn:ietf:params:acme:error:rateLimited` with `Retry-After` (or a bare 503
 * with Retry-After). It can offer `renewalInfo` (RFC 9773) and refuse an order that carries `replaces` as
 * `alreadyReplaced`. It never issues a certificate. JWS signatures are not checked (it records the payloads).
 * TLS on a loopback address, with a throw-away lab CA the client is given.
 */
export interface RateLimitingAcmeDoubleBehaviour {
  /** How newOrder answers: a rateLimited problem with HTTP 429 (default), or HTTP 503 with no problem document. */
  answer?: 'rateLimited' | 'unavailable';
  /** Retry-After header of that answer, as sent (seconds or an HTTP date); null for none. Default '10800'. */
  retryAfter?: string | null;
  /** The problem's detail. */
  detail?: string;
  /** Offer `renewalInfo` in the directory (default false). */
  renewalInfo?: boolean;
  /** Answer an order that carries `replaces` with 409 alreadyReplaced (default false). */
  rejectReplaces?: boolean;
}

export interface RateLimitingAcmeDoubleRequest {
  method: string;
  path: string;
  /** The decoded JWS payload of a POST (null for POST-as-GET or a GET). */
  payload: unknown;
}

export interface RateLimitingAcmeDouble {
  address: string;
  port: number;
  directoryUrl: string;
  /** The lab CA that signed the double's TLS certificate: the client's caFile. */
  tlsCaFile: string;
  tlsCaPem: string;
  /** Every request, in order (the tests count them). */
  requests: RateLimitingAcmeDoubleRequest[];
  /** Payloads of the newOrder requests. */
  orders(): Record<string, unknown>[];
  /** Changes the behaviour for the next requests. */
  behave(behaviour: RateLimitingAcmeDoubleBehaviour): void;
  stop(): Promise<void>;
}

export async function startRateLimitingAcmeDouble(
  behaviour: RateLimitingAcmeDoubleBehaviour = {},
  options: { address?: string } = {},
): Promise<RateLimitingAcmeDouble> {
  const address = options.address ?? randomLoopback();
  const lab = await labDir('rate-limiting-acme-double');
  const ca = await createCa(join(lab.path, 'ca'), { cn: 'Rate-limiting ACME double TLS CA', days: 2 });
  const tls = await ca.issue('server', { cn: 'rate-limiting-acme-double', san: null, extensions: [`subjectAltName = IP:${address}`], days: 2 });
  let current: RateLimitingAcmeDoubleBehaviour = { ...behaviour };
  const requests: RateLimitingAcmeDoubleRequest[] = [];
  let base = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res
      .writeHead(status, {
        'replay-nonce': randomBytes(12).toString('base64url'),
        'cache-control': 'no-store',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      })
      .end(text);
  };
  const problem = (res: ServerResponse, status: number, type: string, detail: string, headers: Record<string, string> = {}) =>
    send(res, status, { type: `urn:ietf:params:acme:error:${type}`, detail, status }, { ...headers, 'content-type': 'application/problem+json' });

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = (req.url ?? '/').split('?')[0]!;
    let payload: unknown = null;
    if (req.method === 'POST') {
      try {
        const jws = JSON.parse(body) as { payload?: string };
        payload = jws.payload ? JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) : null;
      } catch {
        return problem(res, 400, 'malformed', 'the request is not a flattened JWS');
      }
    }
    requests.push({ method: req.method ?? '?', path, payload });
    if (req.method === 'GET' && path === '/dir') {
      return send(res, 200, {
        newNonce: `${base}/nonce`,
        newAccount: `${base}/acct`,
        newOrder: `${base}/new-order`,
        ...(current.renewalInfo ? { renewalInfo: `${base}/renewal-info` } : {}),
        meta: { website: 'https://example.test/rate-limiting-acme-double' },
      });
    }
    if (path === '/nonce' && (req.method === 'HEAD' || req.method === 'GET')) return send(res, req.method === 'HEAD' ? 200 : 204, undefined);
    if (req.method === 'POST' && path === '/acct') {
      const existing = (payload as { onlyReturnExisting?: boolean } | null)?.onlyReturnExisting;
      return send(res, existing ? 200 : 201, { status: 'valid', orders: `${base}/acct/1/orders` }, { location: `${base}/acct/1` });
    }
    if (req.method === 'POST' && path === '/new-order') {
      const replaces = (payload as { replaces?: string } | null)?.replaces;
      if (replaces && current.rejectReplaces) {
        return problem(res, 409, 'alreadyReplaced', `the certificate ${replaces} has already been replaced by another order`);
      }
      const retry = current.retryAfter === undefined ? '10800' : current.retryAfter;
      const headers: Record<string, string> = retry === null ? {} : { 'retry-after': retry };
      if (current.answer === 'unavailable') {
        res
          .writeHead(503, { 'content-type': 'text/plain', 'replay-nonce': randomBytes(12).toString('base64url'), ...headers })
          .end('service busy, come back later');
        return;
      }
      return problem(
        res,
        429,
        'rateLimited',
        current.detail ?? 'too many certificates (5) already issued for this exact set of identifiers in the last 168h0m0s',
        headers,
      );
    }
    if (req.method === 'GET' && path.startsWith('/renewal-info/') && current.renewalInfo) {
      // A window that has passed: the CA asks for a renewal now (the order it then meets is rate-limited).
      const start = new Date(Date.now() - 2 * 86_400_000);
      return send(
        res,
        200,
        { suggestedWindow: { start: start.toISOString(), end: new Date(start.getTime() + 86_400_000).toISOString() } },
        { 'retry-after': '21600' },
      );
    }
    return problem(res, 404, 'malformed', `the rate-limiting ACME double has no ${req.method} ${path}`);
  };

  const server: Server = createServer({ cert: tls.certPem + ca.certPem, key: tls.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => handle(req, res, body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  base = `https://${address}:${port}`;
  return {
    address,
    port,
    directoryUrl: `${base}/dir`,
    tlsCaFile: ca.certFile,
    tlsCaPem: ca.certPem,
    requests,
    orders: () => requests.filter((r) => r.path === '/new-order').map((r) => r.payload as Record<string, unknown>),
    behave: (next) => {
      current = { ...current, ...next };
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await lab.cleanup();
    },
  };
}
