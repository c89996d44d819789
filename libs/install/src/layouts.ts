import { join } from 'node:path';
import type { PerDistro } from './distro.js';
import type { LayoutFile, ServiceLayout } from './file-installer.js';

const KEY = 0o600;
const PUBLIC = 0o644;

/**
 * How one service keeps its certificate: its files under the SSL directory, the extra paths it may also read, and
 * how it is made to load them. Each installer plugin declares its service's profile.
 */
export interface ServiceProfile {
  /** The service's directory under paths.sslDir. */
  dir: string;
  layout: (dir: string) => ServiceLayout;
  /** Extra paths for the service (made only when the service's `links` option is true). */
  links: (dir: string) => LayoutFile[];
  /**
   * The reload used on a systemd host when the config gives none, per distribution family where the unit is named
   * differently.
   */
  systemdReload: PerDistro<string[]>;
}

/** A file holding the certificate and its chain, readable by all. */
export const certificateAt = (path: string): LayoutFile => ({ path, role: 'certificate', content: 'cert+chain', mode: PUBLIC });

/** A file holding the private key alone, readable by its owner. */
export const keyAt = (path: string): LayoutFile => ({ path, role: 'key', content: 'key', mode: KEY });

/** One combined file (key first), readable by its owner. */
export const combinedAt = (path: string, content: 'key+cert+chain' | 'key+cert' = 'key+cert+chain'): LayoutFile => ({
  path,
  role: 'combined',
  content,
  mode: KEY,
});

/**
 * The two-file layout cPanel gives a service named `name`: my<name>.crt (certificate + chain) and my<name>.key for
 * a CA-signed certificate, <name>.crt (the certificate alone) and <name>.key for a self-signed one.
 */
export function pairLayout(name: string): (dir: string) => ServiceLayout {
  return (dir) => ({
    caSigned: [certificateAt(join(dir, `my${name}.crt`)), keyAt(join(dir, `my${name}.key`))],
    selfSigned: [{ ...certificateAt(join(dir, `${name}.crt`)), content: 'cert' }, keyAt(join(dir, `${name}.key`))],
  });
}

/** The same files whichever kind of certificate is installed. */
export function sameLayout(files: (dir: string) => LayoutFile[]): (dir: string) => ServiceLayout {
  return (dir) => {
    const all = files(dir);
    return { caSigned: all, selfSigned: all };
  };
}
