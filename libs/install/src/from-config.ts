import { join } from 'node:path';
import type { CertsmithConfig } from '@certsmith/core';
import { FileInstaller } from './file-installer.js';
import type { ServiceLayout } from './file-installer.js';

/** A FileInstaller for a service as the config describes it (endpoints, reload command, timeout). */
export function installerFromConfig(config: CertsmithConfig, service: string, layout: (sslDir: string) => ServiceLayout): FileInstaller {
  const settings = config.services[service] ?? {};
  return new FileInstaller({
    service,
    layout: layout(config.paths.sslDir),
    endpoints: (settings.endpoints ?? []).map((e) => ({ host: e.host, port: e.port, starttls: e.starttls ?? null, servername: e.servername })),
    reload: Array.isArray(settings.reload) ? settings.reload : null,
    reloadTimeoutMs: settings.reloadTimeoutMs ?? 30_000,
    backupDir: join(config.paths.stateDir, 'backups'),
  });
}
