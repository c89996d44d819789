// Installs the certificate of Dovecot (IMAP/POP3): mydovecot.crt/.key, or dovecot.crt/.key, under paths.sslDir/dovecot;
// with `"links": true` also /etc/dovecot/ssl/dovecot.crt/.key. Dovecot reloads in place (`doveadm reload` or SIGHUP).
import { definePlugin } from '@certsmith/core';
import { serviceInstaller } from '@certsmith/install';
import { DOVECOT_PROFILE } from './profile.js';

export { DOVECOT_PROFILE } from './profile.js';

export const manifest = definePlugin({
  name: '@certsmith/installer-dovecot',
  version: '0.1.0',
  apiVersion: 1,
  module: (options) => serviceInstaller({ service: 'dovecot', profile: DOVECOT_PROFILE }, options),
});
export default manifest;
