// Installs the hostname's certificate for the web server (nginx, or Apache with `"server": "apache"`): the hostname
// vhost's certificate and key files, and — as cPanel does — the files of every other vhost that served the old
// hostname certificate (found in `configFiles`), all switched together in one generation.
import { definePlugin } from '@certsmith/core';
import { serviceInstaller } from '@certsmith/install';
import { sharedVhostFiles, webProfile, type WebSettings } from './profile.js';

export { vhostPairs, leafFingerprintOf, type VhostPair } from './vhosts.js';
export { webProfile, sharedVhostFiles, type WebSettings } from './profile.js';

export const manifest = definePlugin({
  name: '@certsmith/installer-web',
  version: '0.1.0',
  apiVersion: 1,
  module: (options) =>
    serviceInstaller(
      {
        service: 'web',
        profile: (settings, config) => webProfile(config, settings as WebSettings),
        followers: (settings, config) => sharedVhostFiles(config, settings as WebSettings),
      },
      options,
    ),
});
export default manifest;
