// For tests: the installer a plugin contributes for a config, set up as the CLI's composition root does; and a
// sample service profile for this library's own tests.
import { Container, TOKENS, completeConfig, contributionsOf, createBus, type PluginManifest } from '@certsmith/core';
import type { FileInstaller } from './file-installer.js';
import { certificateAt, keyAt, pairLayout, type ServiceProfile } from './layouts.js';

export async function contributedInstaller(manifest: PluginManifest, raw: Record<string, unknown>): Promise<FileInstaller> {
  const config = completeConfig({ hostname: 'host.example.test', paths: { stateDir: '/tmp/state', sslDir: '/ssl' }, ...raw }, '/etc/certsmith/config.json');
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Bus).toConstantValue(createBus());
  const { installers } = await contributionsOf(manifest, {}, config, root, createBus());
  if (installers.length !== 1) throw new Error(`${manifest.name} contributed ${installers.length} installers, expected 1`);
  return installers[0] as FileInstaller;
}

/** A mail server's kind of profile: two files, extra paths, a unit named differently on Debian. */
export const SAMPLE_PROFILE: ServiceProfile = {
  dir: 'exim',
  layout: pairLayout('exim'),
  links: () => [certificateAt('/etc/exim.crt'), keyAt('/etc/exim.key')],
  systemdReload: { debian: ['systemctl', 'restart', 'exim4'], other: ['systemctl', 'restart', 'exim'] },
};
