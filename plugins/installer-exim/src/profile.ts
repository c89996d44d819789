import { certificateAt, keyAt, pairLayout, type ServiceProfile } from '@certsmith/install';

/**
 * Exim (SMTP) on a cPanel server: myexim.crt/.key, or exim.crt/.key for a self-signed certificate, under
 * <sslDir>/exim; the extra paths are /etc/exim.crt and /etc/exim.key. Exim is restarted, not reloaded: a daemon
 * started with -C re-execs itself without root on SIGHUP and can then no longer bind ports below 1024. Its unit is
 * exim4 on Debian and Ubuntu, exim on the RHEL family.
 */
export const EXIM_PROFILE: ServiceProfile = {
  dir: 'exim',
  layout: pairLayout('exim'),
  links: () => [certificateAt('/etc/exim.crt'), keyAt('/etc/exim.key')],
  systemdReload: { debian: ['systemctl', 'restart', 'exim4'], other: ['systemctl', 'restart', 'exim'] },
};
