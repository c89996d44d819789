import { certificateAt, keyAt, pairLayout, type ServiceProfile } from '@certsmith/install';

/**
 * Dovecot (IMAP/POP3) on a cPanel server: mydovecot.crt/.key, or dovecot.crt/.key for a self-signed certificate,
 * under <sslDir>/dovecot; the extra paths are /etc/dovecot/ssl's. Dovecot re-reads its certificate on reload.
 */
export const DOVECOT_PROFILE: ServiceProfile = {
  dir: 'dovecot',
  layout: pairLayout('dovecot'),
  links: () => [certificateAt('/etc/dovecot/ssl/dovecot.crt'), keyAt('/etc/dovecot/ssl/dovecot.key')],
  systemdReload: { other: ['systemctl', 'reload', 'dovecot'] },
};
