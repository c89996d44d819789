// Installs the certificate of Pure-FTPd: the combined pure-ftpd.pem, in the cPanel layout under paths.sslDir.
import { CPANEL_LAYOUTS, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-ftp', '0.1.0', 'ftp', CPANEL_LAYOUTS.ftp);
export default manifest;
