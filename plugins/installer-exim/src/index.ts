// Installs the certificate of Exim (SMTP): myexim.crt/.key, or exim.crt/.key, in the cPanel layout under paths.sslDir.
import { CPANEL_LAYOUTS, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-exim', '0.1.0', 'exim', CPANEL_LAYOUTS.exim);
export default manifest;
