import { access } from 'node:fs/promises';
import { LabError, run } from './process.js';

/**
 * Makes sure Debian packages are installed: installs the missing ones when running as root (as CI does),
 * fails loudly otherwise. Tests never skip for a missing server.
 */
export async function ensurePackages(packages: Record<string, string>): Promise<void> {
  const missing: string[] = [];
  for (const [binary, pkg] of Object.entries(packages)) {
    if (
      !(await access(binary).then(
        () => true,
        () => false,
      ))
    )
      missing.push(pkg);
  }
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new LabError(`missing Debian packages ${missing.join(' ')} and not root to install them`);
  const result = await run('apt-get', ['-o', 'DPkg::Lock::Timeout=900', 'install', '-y', '--no-install-recommends', ...new Set(missing)], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeoutMs: 900_000,
  });
  if (result.code !== 0) throw new LabError(`apt-get install ${missing.join(' ')} failed:\n${result.stderr}`);
}
