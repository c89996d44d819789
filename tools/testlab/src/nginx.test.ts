import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx, type Nginx } from './nginx.js';
import { labDir } from './process.js';
import { randomLoopback } from './loopback.js';

function get(address: string, port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startNginx', () => {
  let nginx: Nginx;
  let docroot: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    docroot = await labDir('docroot');
    nginx = await startNginx({ address: randomLoopback(), httpPort: 8080, sites: [{ serverNames: ['www.example.test'], docroot: docroot.path }] });
  });
  afterAll(async () => {
    await nginx?.stop();
    await docroot?.cleanup();
  });

  it('serves the docroot by Host header and reloads', async () => {
    await writeFile(join(docroot.path, 'probe.txt'), 'hello');
    expect(await get(nginx.address, 8080, 'www.example.test', '/probe.txt')).toEqual({ status: 200, body: 'hello' });
    expect((await get(nginx.address, 8080, 'www.example.test', '/missing')).status).toBe(404);
    await nginx.reload();
    expect((await get(nginx.address, 8080, 'www.example.test', '/probe.txt')).body).toBe('hello');
  });
});
