// Installs the hostname's certificate for the web server (nginx, or Apache with `"server": "apache"`): the hostname
// vhost's certificate and key files, and — as cPanel does — the files of every other vhost that served the old
// hostname certificate (found in `configFiles`), all switched together in one generation.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ContainerModule,
  TOKENS,
  UsageError,
  definePlugin,
  resolveConfigPath,
  type Bus,
  type CertsmithConfig,
  type FaultPoints,
  type PluginManifest,
  type ServiceMaterial,
} from '@certsmith/core';
import { installerFromConfig, type LayoutFile, type ServiceProfile } from '@certsmith/install';
import { leafFingerprintOf, vhostPairs } from './vhosts.js';

export { vhostPairs, leafFingerprintOf, type VhostPair } from './vhosts.js';

export interface WebSettings {
  server?: 'nginx' | 'apache';
  /** The hostname vhost's files; default <dir>/hostname.crt (certificate + chain) and <dir>/hostname.key. */
  certFile?: string;
  keyFile?: string;
  /** Config files or directories (their *.conf) whose vhosts are checked for the old hostname certificate. */
  configFiles?: string[];
}

/** The web service's profile for a config (its files may sit anywhere the vhost config says). */
export function webProfile(config: CertsmithConfig, settings: WebSettings): ServiceProfile {
  const server = settings.server ?? 'nginx';
  if (server !== 'nginx' && server !== 'apache') throw new UsageError('CONFIG_INVALID', `${config.file}: $.services.web.server: must be "nginx" or "apache"`);
  return {
    dir: 'web',
    layout: (dir) => {
      const files: LayoutFile[] = [
        {
          path: settings.certFile ? resolveConfigPath(config, settings.certFile) : join(dir, 'hostname.crt'),
          role: 'certificate',
          content: 'cert+chain',
          mode: 0o644,
        },
        { path: settings.keyFile ? resolveConfigPath(config, settings.keyFile) : join(dir, 'hostname.key'), role: 'key', content: 'key', mode: 0o600 },
      ];
      return { caSigned: files, selfSigned: files };
    },
    links: () => [],
    // Apache's unit is apache2 on Debian and Ubuntu, httpd on the RHEL family; nginx is nginx on both.
    systemdReload:
      server === 'nginx'
        ? { other: ['systemctl', 'reload', 'nginx'] }
        : { debian: ['systemctl', 'reload', 'apache2'], other: ['systemctl', 'reload', 'httpd'] },
  };
}

/** Every other vhost pair whose certificate is the one the hostname vhost has now: they get the new one too. */
export function sharedVhostFiles(config: CertsmithConfig, settings: WebSettings) {
  return async (current: ServiceMaterial): Promise<LayoutFile[]> => {
    const hostnameFiles = current.sources.map((s) => s.path);
    const old = await leafFingerprintOf(hostnameFiles[0]!);
    if (!old) return [];
    const files: LayoutFile[] = [];
    const pairs = await vhostPairs(
      settings.server ?? 'nginx',
      (settings.configFiles ?? []).map((f) => resolveConfigPath(config, f)),
    );
    for (const pair of pairs) {
      if (hostnameFiles.includes(pair.certFile) || (await leafFingerprintOf(pair.certFile)) !== old) continue;
      // The vhost's key keeps 0640 if it had it (a web server group reads it); anything looser becomes 0600.
      const keyMode = ((await stat(pair.keyFile).catch(() => null))?.mode ?? 0) & 0o777;
      files.push({ path: pair.certFile, role: 'certificate', content: 'cert+chain', mode: 0o644 });
      files.push({ path: pair.keyFile, role: 'key', content: 'key', mode: keyMode === 0o640 ? 0o640 : 0o600 });
    }
    return files;
  };
}

export const manifest: PluginManifest = definePlugin({
  name: '@certsmith/installer-web',
  version: '0.1.0',
  apiVersion: 1,
  module: new ContainerModule(({ bind }) => {
    bind(TOKENS.Installer)
      .toDynamicValue((ctx) => {
        const config = ctx.get<CertsmithConfig>(TOKENS.Config);
        const settings = (config.services.web ?? {}) as WebSettings;
        return installerFromConfig(config, 'web', webProfile(config, settings), {
          bus: ctx.get<Bus>(TOKENS.Bus),
          faults: ctx.get<FaultPoints>(TOKENS.FaultPoints, { optional: true }),
          followers: sharedVhostFiles(config, settings),
        });
      })
      .inSingletonScope();
  }),
});
export default manifest;
