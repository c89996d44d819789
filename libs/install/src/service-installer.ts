import { ContainerModule, TOKENS, type Bus, type CertsmithConfig, type FaultPoints, type ServiceMaterial } from '@certsmith/core';
import type { LayoutFile } from './file-installer.js';
import { installerFromConfig } from './from-config.js';
import type { ServiceProfile } from './layouts.js';

/** What an installer plugin says about its service; the rest (owners, links, reload, proof) comes from the config. */
export interface ServiceInstallerSpec {
  /** The service id: `services.<id>` in the config, and the id targets name. */
  service: string;
  /** The profile, or how the service's settings (`services.<id>` over the plugin's options) choose it. */
  profile: ServiceProfile | ((settings: Record<string, unknown>, config: CertsmithConfig) => ServiceProfile);
  /** Other files that must take the new certificate with the service's own (the web server's other vhosts). */
  followers?: (settings: Record<string, unknown>, config: CertsmithConfig) => (current: ServiceMaterial) => Promise<LayoutFile[]>;
}

/** The ContainerModule of an installer plugin: one FileInstaller for its service, made once the config is known. */
export function serviceInstaller(spec: ServiceInstallerSpec, options: Record<string, unknown> = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TOKENS.Installer)
      .toDynamicValue((ctx) => {
        const config = ctx.get<CertsmithConfig>(TOKENS.Config);
        const settings = { ...options, ...((config.services[spec.service] ?? {}) as Record<string, unknown>) };
        const profile = typeof spec.profile === 'function' ? spec.profile(settings, config) : spec.profile;
        return installerFromConfig(config, spec.service, profile, {
          bus: ctx.get<Bus>(TOKENS.Bus),
          faults: ctx.get<FaultPoints>(TOKENS.FaultPoints, { optional: true }),
          followers: spec.followers?.(settings, config),
        });
      })
      .inSingletonScope();
  });
}
