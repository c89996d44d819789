// Installs the FTP server's certificate under paths.sslDir/ftp: Pure-FTPd's combined pure-ftpd.pem (key, certificate,
// chain), or with `"server": "proftpd"` in services.ftp ProFTPD's proftpd.crt/.key. Pure-FTPd must be restarted:
// SIGHUP terminates it and it reads the file only at start (tools/testlab/README.md#pure-ftpd).
import { SERVICE_PROFILES, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-ftp', '0.1.0', 'ftp', (settings) => {
  if (settings.server === undefined || settings.server === 'pure-ftpd') return SERVICE_PROFILES.ftp;
  if (settings.server === 'proftpd') return SERVICE_PROFILES.proftpd;
  throw new Error(`services.ftp.server: must be "pure-ftpd" or "proftpd", not ${JSON.stringify(settings.server)}`);
});
export default manifest;
