import { join } from 'node:path';
import { certificateAt, combinedAt, keyAt, sameLayout, type ServiceProfile } from '@certsmith/install';

/**
 * Pure-FTPd reads one combined file (key, certificate, chain) whichever kind of certificate it holds, and only at
 * start: SIGHUP terminates it, so it is restarted.
 */
export const PURE_FTPD_PROFILE: ServiceProfile = {
  dir: 'ftp',
  layout: sameLayout((dir) => [combinedAt(join(dir, 'pure-ftpd.pem'))]),
  links: () => [combinedAt('/etc/pure-ftpd.pem'), combinedAt('/etc/ssl/private/pure-ftpd.pem')],
  systemdReload: { other: ['systemctl', 'restart', 'pure-ftpd'] },
};

/** ProFTPD (`"server": "proftpd"`): the files of its TLSRSACertificateFile and TLSRSACertificateKeyFile. */
export const PROFTPD_PROFILE: ServiceProfile = {
  dir: 'ftp',
  layout: sameLayout((dir) => [certificateAt(join(dir, 'proftpd.crt')), keyAt(join(dir, 'proftpd.key'))]),
  links: () => [certificateAt('/etc/proftpd/ssl/proftpd.crt'), keyAt('/etc/proftpd/ssl/proftpd.key')],
  systemdReload: { other: ['systemctl', 'reload', 'proftpd'] },
};

/** The FTP server's profile, by the `server` setting of services.ftp. */
export function ftpProfile(settings: Record<string, unknown>): ServiceProfile {
  if (settings.server === undefined || settings.server === 'pure-ftpd') return PURE_FTPD_PROFILE;
  if (settings.server === 'proftpd') return PROFTPD_PROFILE;
  throw new Error(`services.ftp.server: must be "pure-ftpd" or "proftpd", not ${JSON.stringify(settings.server)}`);
}
