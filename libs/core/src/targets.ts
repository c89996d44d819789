import type { CertsmithConfig } from './config/config.js';
import { UsageError } from './errors.js';
import type { Target } from './model.js';

/** The server's own target: the hostname (and configured extra names) for every configured service. */
export function hostnameTarget(config: CertsmithConfig): Target {
  const names = [config.hostname, ...config.names.filter((n) => n !== config.hostname)];
  return { id: 'hostname', names, services: Object.keys(config.services), kind: 'hostname' };
}

/** Every target of a run: the hostname first, then the configured sites, in config order. */
export function allTargets(config: CertsmithConfig): Target[] {
  return [hostnameTarget(config), ...config.targets.map((t): Target => ({ id: t.id, names: t.names, services: t.services, kind: 'site' }))];
}

/** The targets a `--target` selection names, by id or by any of their names; throws a UsageError for an unknown one. */
export function selectTargets(targets: Target[], wanted: string[]): Target[] {
  if (wanted.length === 0) return targets;
  return wanted.map((w) => {
    const key = w.toLowerCase().replace(/\.$/, '');
    const found = targets.find((t) => t.id === key || t.names.includes(key));
    if (!found) throw new UsageError('UNKNOWN_TARGET', `--target ${w}: no target has that id or name (targets: ${targets.map((t) => t.id).join(', ')})`);
    return found;
  });
}
