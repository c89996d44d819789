import { ContainerModule, TOKENS, definePlugin, type Bus, type CertsmithConfig, type FaultPoints, type PluginManifest } from '@certsmith/core';
import { installerFromConfig } from './from-config.js';
import type { ServiceProfile } from './layouts.js';

/** The manifest of a plugin that installs one service's certificate as files in its layout. */
export function layoutInstallerPlugin(
  name: string,
  version: string,
  service: string,
  profile: ServiceProfile | ((options: Record<string, unknown>) => ServiceProfile),
): PluginManifest {
  return definePlugin({
    name,
    version,
    apiVersion: 1,
    module: (options) =>
      new ContainerModule(({ bind }) => {
        bind(TOKENS.Installer)
          .toDynamicValue((ctx) => {
            const config = ctx.get<CertsmithConfig>(TOKENS.Config);
            const settings = (config.services[service] ?? {}) as Record<string, unknown>;
            const chosen = typeof profile === 'function' ? profile({ ...options, ...settings }) : profile;
            return installerFromConfig(config, service, chosen, {
              bus: ctx.get<Bus>(TOKENS.Bus),
              faults: ctx.get<FaultPoints>(TOKENS.FaultPoints, { optional: true }),
            });
          })
          .inSingletonScope();
      }),
  });
}
