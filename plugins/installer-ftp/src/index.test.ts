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

describe('@certsmith/installer-ftp', () => {
  it('installs Pure-FTPd\'s combined pure-ftpd.pem by default, ProFTPD\'s proftpd.crt/.key when asked', async () => {
    const pure = await installerFor({ ftp: {} });
    expect(pure.service).toBe('ftp');
    expect(pure.plan({ selfSigned: false }).files).toEqual(['/ssl/ftp/pure-ftpd.pem']);
    expect(pure.plan({ selfSigned: true }).files).toEqual(['/ssl/ftp/pure-ftpd.pem']);
    const pro = await installerFor({ ftp: { server: 'proftpd' } });
    expect(pro.plan({ selfSigned: false }).files).toEqual(['/ssl/ftp/proftpd.crt', '/ssl/ftp/proftpd.key']);
  });
});
