// Installs the FTP server's certificate under paths.sslDir/ftp: Pure-FTPd's combined pure-ftpd.pem (key, certificate,
// chain), or with `"server": "proftpd"` in services.ftp ProFTPD's proftpd.crt/.key.
import { definePlugin } from '@certsmith/core';
import { serviceInstaller } from '@certsmith/install';
import { ftpProfile } from './profile.js';

export { PURE_FTPD_PROFILE, PROFTPD_PROFILE, ftpProfile } from './profile.js';

export const manifest = definePlugin({
  name: '@certsmith/installer-ftp',
  version: '0.1.0',
  apiVersion: 1,
  module: (options) => serviceInstaller({ service: 'ftp', profile: ftpProfile }, options),
});
export default manifest;
