// Installs the certificate of the control-panel daemon (cpsrvd): mycpanel.pem + mycpanel.cabundle, or cpanel.pem, under paths.sslDir/cpanel.
import { definePlugin } from '@certsmith/core';
import { serviceInstaller } from '@certsmith/install';
import { CPANEL_PROFILE } from './profile.js';

export { CPANEL_PROFILE } from './profile.js';

export const manifest = definePlugin({
  name: '@certsmith/installer-cpanel',
  version: '0.1.0',
  apiVersion: 1,
  module: (options) => serviceInstaller({ service: 'cpanel', profile: CPANEL_PROFILE }, options),
});
export default manifest;
