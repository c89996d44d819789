import { request } from 'node:http';
import { isIPv6 } from 'node:net';

/** What one GET of the double's answered, or (a string) why it got no answer. */
export type DoubleHttpAnswer = { status: number; location?: string; body: string } | string;

/** One GET of `url`'s path over a connection to `address` with `url`'s host as Host (the first 16 KiB of the body). */
export function getOver(address: string, port: number, url: URL): Promise<DoubleHttpAnswer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: address,
        family: isIPv6(address) ? 6 : 4,
        port,
        path: url.pathname,
        headers: { host: url.hostname, 'user-agent': 'certsmith-issuing-acme-double' },
        timeout: 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 16_384) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve(error.message));
    req.end();
  });
}

/**
 * The double's http-01 check (RFC 8555 section 8.3): GET /.well-known/acme-challenge/<token> with the name as Host,
 * over a connection to the address the test says the name points at (the lab's nginx), no redirects followed.
 * Resolves to null when the body is the key authorization, else to what was wrong.
 */
export async function checkHttp01(at: { address: string; port?: number }, name: string, token: string, keyAuthorization: string): Promise<string | null> {
  const url = `http://${name}/.well-known/acme-challenge/${token}`;
  const answer = await getOver(at.address, at.port ?? 80, new URL(url));
  if (typeof answer === 'string') return `cannot fetch ${url} from ${at.address}: ${answer}`;
  if (answer.status !== 200) return `${url} answered HTTP ${answer.status}`;
  return answer.body.trim() === keyAuthorization ? null : `the file at ${url} is not the key authorization: ${JSON.stringify(answer.body.slice(0, 80))}`;
}
