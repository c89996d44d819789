import type { CertsmithConfig } from './config/config.js';
import type { Target } from './model.js';

/** The server's own target: the hostname (and configured extra names) for every configured service. */
export function hostnameTarget(config: CertsmithConfig): Target {
  const names = [config.hostname, ...config.names.filter((n) => n !== config.hostname)];
  return { id: 'hostname', names, services: Object.keys(config.services), kind: 'hostname' };
}
