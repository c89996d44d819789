import { join } from 'node:path';
import type { PerDistro } from './distro.js';
import type { LayoutFile, ServiceLayout } from './file-installer.js';

const KEY = 0o600;
const PUBLIC = 0o644;

/** How one service keeps its certificate: its files under the SSL directory, and the links cPanel adds elsewhere. */
export interface ServiceProfile {
  /** The service's directory under paths.sslDir. */
  dir: string;
  layout: (dir: string) => ServiceLayout;
  /** cPanel's extra paths for the service (made only when the service's `links` option is true). */
  links: (dir: string) => LayoutFile[];
  /**
   * The reload used on a systemd host when the config gives none (Exim and Pure-FTPd must restart: tools/testlab/README.md#reloads), per
   * distribution family where the unit is named differently (Debian's exim4 and apache2, RHEL's exim and httpd).
   */
  systemdReload: PerDistro<string[]>;
}

const cert = (path: string): LayoutFile => ({ path, role: 'certificate', content: 'cert+chain', mode: PUBLIC });
const key = (path: string): LayoutFile => ({ path, role: 'key', content: 'key', mode: KEY });

/** cPanel's service files (docs/domain-facts.md#service-files; /var/cpanel/ssl/<service> on a real server). */
export const SERVICE_PROFILES: Record<'cpanel' | 'dovecot' | 'exim' | 'ftp' | 'proftpd', ServiceProfile> = {
  cpanel: {
    dir: 'cpanel',
    layout: (d) => ({
      caSigned: [
        { path: join(d, 'mycpanel.pem'), role: 'combined', content: 'key+cert+chain', mode: KEY },
        { path: join(d, 'mycpanel.cabundle'), role: 'chain', content: 'chain', mode: PUBLIC },
      ],
      selfSigned: [{ path: join(d, 'cpanel.pem'), role: 'combined', content: 'key+cert', mode: KEY }],
    }),
    links: () => [],
    systemdReload: { other: ['/usr/local/cpanel/scripts/restartsrv_cpsrvd'] },
  },
  dovecot: {
    dir: 'dovecot',
    layout: (d) => ({
      caSigned: [cert(join(d, 'mydovecot.crt')), key(join(d, 'mydovecot.key'))],
      selfSigned: [{ ...cert(join(d, 'dovecot.crt')), content: 'cert' }, key(join(d, 'dovecot.key'))],
    }),
    links: () => [cert('/etc/dovecot/ssl/dovecot.crt'), key('/etc/dovecot/ssl/dovecot.key')],
    systemdReload: { other: ['systemctl', 'reload', 'dovecot'] },
  },
  exim: {
    dir: 'exim',
    layout: (d) => ({
      caSigned: [cert(join(d, 'myexim.crt')), key(join(d, 'myexim.key'))],
      selfSigned: [{ ...cert(join(d, 'exim.crt')), content: 'cert' }, key(join(d, 'exim.key'))],
    }),
    links: () => [cert('/etc/exim.crt'), key('/etc/exim.key')],
    systemdReload: { debian: ['systemctl', 'restart', 'exim4'], other: ['systemctl', 'restart', 'exim'] },
  },
  // Pure-FTPd reads one combined file (key, certificate, chain) whichever kind of certificate it holds.
  ftp: {
    dir: 'ftp',
    layout: (d) => {
      const pem: LayoutFile[] = [{ path: join(d, 'pure-ftpd.pem'), role: 'combined', content: 'key+cert+chain', mode: KEY }];
      return { caSigned: pem, selfSigned: pem };
    },
    links: () => [
      { path: '/etc/pure-ftpd.pem', role: 'combined', content: 'key+cert+chain', mode: KEY },
      { path: '/etc/ssl/private/pure-ftpd.pem', role: 'combined', content: 'key+cert+chain', mode: KEY },
    ],
    systemdReload: { other: ['systemctl', 'restart', 'pure-ftpd'] },
  },
  // ProFTPD (the ftp service with `"server": "proftpd"`): TLSRSACertificateFile and TLSRSACertificateKeyFile.
  proftpd: {
    dir: 'ftp',
    layout: (d) => {
      const files = [cert(join(d, 'proftpd.crt')), key(join(d, 'proftpd.key'))];
      return { caSigned: files, selfSigned: files };
    },
    links: () => [cert('/etc/proftpd/ssl/proftpd.crt'), key('/etc/proftpd/ssl/proftpd.key')],
    systemdReload: { other: ['systemctl', 'reload', 'proftpd'] },
  },
};

/** The layouts by service id, under a base directory (the former API, kept for callers that need only paths). */
export const CPANEL_LAYOUTS: Record<'cpanel' | 'dovecot' | 'exim' | 'ftp', (sslDir: string) => ServiceLayout> = {
  cpanel: (base) => SERVICE_PROFILES.cpanel.layout(join(base, 'cpanel')),
  dovecot: (base) => SERVICE_PROFILES.dovecot.layout(join(base, 'dovecot')),
  exim: (base) => SERVICE_PROFILES.exim.layout(join(base, 'exim')),
  ftp: (base) => SERVICE_PROFILES.ftp.layout(join(base, 'ftp')),
};
