import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPV6_LOOPBACK, holdIpv6Loopback } from './ipv6-loopback.js';
import { startNginx } from './nginx.js';
import { labDir, portOpen } from './process.js';

const LOCK = join(tmpdir(), 'certsmith-lab-ipv6-loopback.lock');

function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: IPV6_LOOPBACK, family: 6, port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('holdIpv6Loopback', () => {
  it('lets one holder at a time have ::1, serves nginx there, and takes over the lock of a holder that died', async () => {
    const release = await holdIpv6Loopback();
    try {
      await expect(holdIpv6Loopback(600)).rejects.toThrow(/has held ::1 for over 0.6 s/);
      const docroot = await labDir('docroot6');
      const nginx = await startNginx({ address: IPV6_LOOPBACK, sites: [{ serverNames: ['v6.example.test'], docroot: docroot.path }] });
      try {
        await writeFile(join(docroot.path, 'probe.txt'), 'over six');
        expect(await get(80, 'v6.example.test', '/probe.txt')).toEqual({ status: 200, body: 'over six' });
      } finally {
        await nginx.stop();
        await docroot.cleanup();
      }
      expect(await portOpen(IPV6_LOOPBACK, 80)).toBe(false);
    } finally {
      await release();
    }
    // A holder that died while holding the lock (this child exits at once) does not block the lab.
    const dead = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
    const died = await holdIpv6Loopback();
    await writeFile(LOCK, `${dead} died`);
    const again = await holdIpv6Loopback(5_000);
    const held = await readFile(LOCK, 'utf8');
    expect(held).toMatch(new RegExp(`^${process.pid} [0-9a-f]{16}$`));
    await died(); // not its lock any more: leaves it alone
    expect(await readFile(LOCK, 'utf8')).toBe(held);
    await again();
    expect(await readFile(LOCK, 'utf8').catch(() => 'released')).not.toBe(held);
  });
});
