import { urlHost } from './addresses.js';

export interface FetchLimits {
  /** cPanel: 5 s. */
  connectTimeoutMs: number;
  /** cPanel: 10 s without a byte; the whole answer must also come within connect + read timeouts (a trickle cannot hold the check). */
  readTimeoutMs: number;
  /** cPanel: 16 KiB; a longer answer is not the file. */
  maxBodyBytes: number;
}

export const CPANEL_LIMITS: FetchLimits = { connectTimeoutMs: 5_000, readTimeoutMs: 10_000, maxBodyBytes: 16 * 1024 };

export type FetchOutcome =
  | { kind: 'response'; status: number; location: string | null; body: Buffer; truncated: boolean }
  | { kind: 'connect-timeout' }
  /** idle: no byte for readTimeoutMs; total: the whole answer took longer than connect + read timeouts. */
  | { kind: 'read-timeout'; total: boolean }
  | { kind: 'refused' }
  | { kind: 'error'; detail: string };

/**
 * One GET of `scheme://address/path` with the original Host header (and SNI for https), as a CA makes it:
 * no redirect is followed here, the body is read up to the cap and not further. Only the caller's abort throws.
 */
export async function fetchOnce(
  scheme: 'http' | 'https',
  address: string,
  host: string,
  path: string,
  limits: FetchLimits,
  signal: AbortSignal,
): Promise<FetchOutcome> {
  const { Client } = await import('undici'); // loaded by the first fetch, not by every run that loads the plugin
  // One connection, as a CA makes: a Client is that connection alone (an Agent's pool machinery cost ~40 % more CPU
  // per probe). A CA does not check the certificate of a server it was redirected to over https (RFC 8555 §8.3).
  const client = new Client(`${scheme}://${urlHost(address)}`, {
    connect: { timeout: limits.connectTimeoutMs, rejectUnauthorized: false },
    headersTimeout: limits.readTimeoutMs,
    bodyTimeout: limits.readTimeoutMs,
    pipelining: 0,
  });
  // The read deadline covers headers and body, so that a server trickling bytes cannot hold the check.
  const deadline = AbortSignal.timeout(limits.connectTimeoutMs + limits.readTimeoutMs);
  const both = AbortSignal.any([signal, deadline]);
  try {
    const response = await client.request({
      path,
      method: 'GET',
      headers: { host, 'user-agent': 'certsmith-dcv-http', accept: '*/*', connection: 'close' },
      signal: both,
    });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      const location = response.headers.location;
      await response.body.dump({ limit: limits.maxBodyBytes }).catch(() => undefined);
      return {
        kind: 'response',
        status: response.statusCode,
        location: Array.isArray(location) ? (location[0] ?? null) : (location ?? null),
        body: Buffer.alloc(0),
        truncated: false,
      };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of response.body) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > limits.maxBodyBytes) {
        truncated = true;
        chunks.push(bytes.subarray(0, bytes.length - (size - limits.maxBodyBytes)));
        response.body.destroy();
        break;
      }
      chunks.push(bytes);
    }
    return { kind: 'response', status: response.statusCode, location: null, body: Buffer.concat(chunks), truncated };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const code = (error as { code?: string }).code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'connect-timeout' };
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'read-timeout', total: false };
    if (deadline.aborted) return { kind: 'read-timeout', total: true };
    if (code === 'ECONNREFUSED') return { kind: 'refused' };
    return { kind: 'error', detail: (error as Error).message || code || String(error) };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}
