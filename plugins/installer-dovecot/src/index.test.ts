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

describe('@certsmith/installer-dovecot', () => {
  it('installs mydovecot.crt/.key (or dovecot.crt/.key), with /etc/dovecot/ssl only when links are asked for', async () => {
    const plain = await installerFor({ dovecot: { reload: ['/usr/bin/doveadm', 'reload'] } });
    expect(plain.service).toBe('dovecot');
    expect(plain.plan({ selfSigned: false })).toEqual({ files: ['/ssl/dovecot/mydovecot.crt', '/ssl/dovecot/mydovecot.key'], reload: ['/usr/bin/doveadm', 'reload'] });
    const linked = await installerFor({ dovecot: { links: true } });
    expect(linked.plan({ selfSigned: true }).files).toEqual(['/ssl/dovecot/dovecot.crt', '/ssl/dovecot/dovecot.key', '/etc/dovecot/ssl/dovecot.crt', '/etc/dovecot/ssl/dovecot.key']);
  });
});
