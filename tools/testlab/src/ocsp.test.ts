import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type LabCa, type LabCert } from './certs.js';
import { startStaticHttp, type StaticHttp } from './http-static.js';
import { randomLoopback } from './loopback.js';
import { freePort, startOcspResponder, type OcspResponder } from './ocsp.js';
import { labDir, run } from './process.js';

function get(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string } | 'timeout'> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', reject);
    req.end();
  });
}

describe('openssl ocsp responder and static HTTP', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let ca: LabCa;
  let responder: OcspResponder;
  const certs: Record<string, LabCert> = {};
  const address = randomLoopback();
  beforeAll(async () => {
    dir = await labDir('ocsp');
    ca = await createCa(join(dir.path, 'ca'));
    const port = await freePort();
    const url = `http://${address}:${port}/`;
    certs.good = await ca.issue('good', { ocspUrl: url });
    certs.revoked = await ca.issue('revoked', { ocspUrl: url });
    certs.unknown = await ca.issue('unknown', { ocspUrl: url, unlisted: true });
    await ca.revoke(certs.revoked);
    responder = await startOcspResponder(ca, { port, address });
  });
  afterAll(async () => {
    await responder?.stop();
    await dir?.cleanup();
  });

  it.each(['good', 'revoked', 'unknown'])('answers %s as openssl ocsp sees it', async (which) => {
    const result = await run('openssl', ['ocsp', '-issuer', ca.certFile, '-cert', certs[which]!.certFile, '-url', responder.url, '-CAfile', ca.certFile]);
    expect(result.stdout, responder.log()).toContain(`${certs[which]!.certFile}: ${which}`);
    expect(result.stderr).toContain('Response verify OK');
  });

  it('serves files, answers 404, and stalls when asked to', async () => {
    const http = await startStaticHttp({ address, files: { '/a.crl': 'crl-bytes' } });
    const slow: StaticHttp = await startStaticHttp({ address, delayMs: Infinity, files: { '/a.crl': 'x' } });
    try {
      expect(await get(http.url('/a.crl'))).toEqual({ status: 200, body: 'crl-bytes' });
      expect(await get(http.url('/other'))).toMatchObject({ status: 404 });
      expect(http.requests.map((r) => r.path)).toEqual(['/a.crl', '/other']);
      expect(await get(slow.url('/a.crl'), 300)).toBe('timeout');
    } finally {
      await http.stop();
      await slow.stop();
    }
  });
});
