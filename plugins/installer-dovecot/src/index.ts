// Installs the certificate of Dovecot (IMAP/POP3): mydovecot.crt/.key, or dovecot.crt/.key, in the cPanel layout under paths.sslDir.
import { CPANEL_LAYOUTS, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-dovecot', '0.1.0', 'dovecot', CPANEL_LAYOUTS.dovecot);
export default manifest;
