import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the files the CLI ships beside its code are (the systemd units, the cron line): `../share` from the
 * directory of the running module. In the repository that is apps/cli/share (the module is apps/cli/dist/main.js);
 * in the npm package the bundle sits in its own directory and share/ beside it, so the same step finds
 * <package>/share. `moduleUrl` is the running module's import.meta.url; null when the directory is not there.
 */
export function shareDir(moduleUrl: string = import.meta.url): string | null {
  const dir = resolve(dirname(fileURLToPath(moduleUrl)), '..', 'share');
  return existsSync(join(dir, 'systemd')) ? dir : null;
}
