// Installs the certificate of Exim (SMTP): myexim.crt/.key, or exim.crt/.key, under paths.sslDir/exim; with
// `"links": true` also /etc/exim.crt and /etc/exim.key. Exim is restarted, not HUPed (profile.ts says why).
import { definePlugin } from '@certsmith/core';
import { serviceInstaller } from '@certsmith/install';
import { EXIM_PROFILE } from './profile.js';

export { EXIM_PROFILE } from './profile.js';

export const manifest = definePlugin({
  name: '@certsmith/installer-exim',
  version: '0.1.0',
  apiVersion: 1,
  module: (options) => serviceInstaller({ service: 'exim', profile: EXIM_PROFILE }, options),
});
export default manifest;
