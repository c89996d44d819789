import { readFileSync } from 'node:fs';

/** Which family of Linux distributions a server belongs to, for the names of its service units. */
export type DistroFamily = 'debian' | 'rhel' | 'other';

const DEBIAN = new Set(['debian', 'ubuntu']);
const RHEL = new Set(['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'cloudlinux', 'amzn']);

/**
 * The family named by an os-release(5) text: its ID, else the first ID_LIKE entry that is a known family (Ubuntu
 * says ID=ubuntu, Rocky ID=rocky with ID_LIKE="rhel centos fedora", Linux Mint ID=linuxmint with ID_LIKE=ubuntu).
 */
export function distroFamilyOf(osRelease: string): DistroFamily {
  const field = (name: string) =>
    (new RegExp(`^${name}=(.*)$`, 'm').exec(osRelease)?.[1] ?? '')
      .trim()
      .replace(/^(["'])(.*)\1$/, '$2')
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean);
  for (const id of [...field('ID'), ...field('ID_LIKE')]) {
    if (DEBIAN.has(id)) return 'debian';
    if (RHEL.has(id)) return 'rhel';
  }
  return 'other';
}

/** The family of this system, from /etc/os-release (or /usr/lib/os-release, its fallback); 'other' when neither is readable. */
export function readDistroFamily(files: readonly string[] = ['/etc/os-release', '/usr/lib/os-release']): DistroFamily {
  for (const file of files) {
    try {
      return distroFamilyOf(readFileSync(file, 'utf8'));
    } catch {
      // the next file
    }
  }
  return 'other';
}

/** The command a service uses on each family; `other` when the family has no name of its own. */
export type PerDistro<T> = { other: T } & Partial<Record<Exclude<DistroFamily, 'other'>, T>>;

export function forDistro<T>(choices: PerDistro<T>, family: DistroFamily): T {
  return choices[family] ?? choices.other;
}
