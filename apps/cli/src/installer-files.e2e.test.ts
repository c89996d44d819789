// The files installer end to end: a site target with `services: ["files"]` gets certbot-style files under
// <sslDir>/live/<target id>/ from the built CLI; a second run finds them healthy and writes nothing.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, run, runCli } from '@certsmith/testlab';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await labDir('installer-files-e2e');
});
afterAll(() => dir?.cleanup());

describe('certsmith check with a site target served by files', { timeout: 60_000 }, () => {
  it('installs fullchain/privkey/cert/chain under live/<id>, the key matches, the names are covered; the next run is healthy', async () => {
    const config = join(dir.path, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        hostname: 'host.example.test',
        paths: { stateDir: './state', sslDir: './ssl' },
        inspection: { live: false },
        services: { cpanel: false, dovecot: false, exim: false, ftp: false },
        plugins: [{ module: '@certsmith/installer-files' }],
        targets: [{ id: 'shop', names: ['shop.example.test', 'www.shop.example.test'], services: ['files'] }],
      }),
    );
    const first = await runCli(['check', '--config', config]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const live = join(dir.path, 'ssl', 'live', 'shop');
    expect(first.stdout).toContain(`Installed for files: ${['privkey.pem', 'cert.pem', 'chain.pem', 'fullchain.pem'].map((f) => join(live, f)).join(', ')}`);
    expect(first.stdout).toMatch(/shop \(shop\.example\.test, www\.shop\.example\.test\): replaced/);
    expect((await stat(join(live, 'privkey.pem'))).mode & 0o777).toBe(0o600);
    const text = (await run('openssl', ['x509', '-in', join(live, 'fullchain.pem'), '-noout', '-text'])).stdout;
    expect(text).toContain('DNS:shop.example.test, DNS:www.shop.example.test');
    const certKey = (await run('openssl', ['x509', '-in', join(live, 'cert.pem'), '-noout', '-pubkey'])).stdout;
    expect((await run('openssl', ['pkey', '-in', join(live, 'privkey.pem'), '-pubout'])).stdout).toBe(certKey);
    expect(await readFile(join(live, 'fullchain.pem'), 'utf8')).toContain(await readFile(join(live, 'cert.pem'), 'utf8'));

    const before = (await stat(join(live, 'fullchain.pem'))).mtimeMs;
    const second = await runCli(['check', '--config', config]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/shop \(shop\.example\.test, www\.shop\.example\.test\): healthy/);
    expect((await stat(join(live, 'fullchain.pem'))).mtimeMs).toBe(before);
  });
});
