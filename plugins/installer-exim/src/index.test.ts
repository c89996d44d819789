import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { TOKENS, completeConfig, createBus, type Installer } from '@certsmith/core';
import type { FileInstaller } from '@certsmith/install';
import { manifest } from './index.js';

/** The installer the plugin contributes for a config's services (what the CLI's composition root does). */
async function installerFor(services: Record<string, unknown>): Promise<FileInstaller> {
  const config = completeConfig({ hostname: 'host.example.test', paths: { stateDir: '/tmp/state', sslDir: '/ssl' }, services }, '/etc/certsmith/config.json');
  const container = new Container();
  container.bind(TOKENS.Config).toConstantValue(config);
  container.bind(TOKENS.Bus).toConstantValue(createBus());
  const module = typeof manifest.module === 'function' ? manifest.module({}) : manifest.module!;
  await container.load(module);
  const installers = container.getAll<Installer>(TOKENS.Installer);
  expect(installers).toHaveLength(1);
  return installers[0] as FileInstaller;
}

describe('@certsmith/installer-exim', () => {
  it('installs myexim.crt/.key (or exim.crt/.key), with /etc/exim.crt and /etc/exim.key only when links are asked for', async () => {
    const plain = await installerFor({ exim: {} });
    expect(plain.service).toBe('exim');
    expect(plain.plan({ selfSigned: false }).files).toEqual(['/ssl/exim/myexim.crt', '/ssl/exim/myexim.key']);
    const linked = await installerFor({ exim: { links: true, endpoints: [{ host: '127.0.0.4', port: 25, starttls: 'smtp' }] } });
    expect(linked.plan({ selfSigned: true }).files).toEqual(['/ssl/exim/exim.crt', '/ssl/exim/exim.key', '/etc/exim.crt', '/etc/exim.key']);
    expect(linked.endpoints({ id: 'hostname', names: ['host.example.test'], services: ['exim'], kind: 'hostname' }))
      .toEqual([{ host: '127.0.0.4', port: 25, starttls: 'smtp', servername: 'host.example.test' }]);
  });
});
