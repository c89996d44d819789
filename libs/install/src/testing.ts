// For plugin tests: the installer a plugin contributes for a config, set up as the CLI's composition root does.
import { Container, TOKENS, completeConfig, contributionsOf, createBus, type PluginManifest } from '@certsmith/core';
import type { FileInstaller } from './file-installer.js';

export async function contributedInstaller(manifest: PluginManifest, raw: Record<string, unknown>): Promise<FileInstaller> {
  const config = completeConfig({ hostname: 'host.example.test', paths: { stateDir: '/tmp/state', sslDir: '/ssl' }, ...raw }, '/etc/certsmith/config.json');
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Bus).toConstantValue(createBus());
  const { installers } = await contributionsOf(manifest, {}, config, root, createBus());
  if (installers.length !== 1) throw new Error(`${manifest.name} contributed ${installers.length} installers, expected 1`);
  return installers[0] as FileInstaller;
}
