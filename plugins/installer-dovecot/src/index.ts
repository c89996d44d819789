// Installs the certificate of Dovecot (IMAP/POP3): mydovecot.crt/.key, or dovecot.crt/.key, under paths.sslDir/dovecot;
// with `"links": true` also /etc/dovecot/ssl/dovecot.crt/.key. Dovecot reloads in place (`doveadm reload` or SIGHUP).
import { SERVICE_PROFILES, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-dovecot', '0.1.0', 'dovecot', SERVICE_PROFILES.dovecot);
export default manifest;
