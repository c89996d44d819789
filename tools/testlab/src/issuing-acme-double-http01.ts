import { request } from 'node:http';

/**
 * The double's http-01 check (RFC 8555 section 8.3): GET /.well-known/acme-challenge/<token> with the name as Host,
 * over a connection to the address the test says the name points at (the lab's nginx), no redirects followed.
 * Resolves to null when the body is the key authorization, else to what was wrong.
 */
export function checkHttp01(at: { address: string; port?: number }, name: string, token: string, keyAuthorization: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: at.address,
        port: at.port ?? 80,
        method: 'GET',
        path: `/.well-known/acme-challenge/${token}`,
        headers: { host: name, 'user-agent': 'certsmith-issuing-acme-double' },
        timeout: 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 16_384) body += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve(`http://${name}/.well-known/acme-challenge/${token} answered HTTP ${res.statusCode}`);
          resolve(
            body.trim() === keyAuthorization
              ? null
              : `the file at http://${name}/.well-known/acme-challenge/${token} is not the key authorization: ${JSON.stringify(body.slice(0, 80))}`,
          );
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve(`cannot fetch http://${name}/.well-known/acme-challenge/${token} from ${at.address}: ${error.message}`));
    req.end();
  });
}
