import { ContainerModule } from 'inversify';
import { TOKENS, definePlugin, type CertsmithConfig, type PluginManifest } from '@certsmith/core';
import type { ServiceLayout } from './file-installer.js';
import { installerFromConfig } from './from-config.js';

/** The manifest of a plugin that installs one service's certificate as files in a layout. */
export function layoutInstallerPlugin(name: string, version: string, service: string, layout: (sslDir: string) => ServiceLayout): PluginManifest {
  return definePlugin({
    name,
    version,
    apiVersion: 1,
    module: new ContainerModule(({ bind }) => {
      bind(TOKENS.Installer)
        .toDynamicValue((ctx) => installerFromConfig(ctx.get<CertsmithConfig>(TOKENS.Config), service, layout))
        .inSingletonScope();
    }),
  });
}
