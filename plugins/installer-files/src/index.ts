// Installs each target's certificate as certbot-style files (service id `files`):
// <paths.sslDir>/live/<target id>/{fullchain,privkey,cert,chain}.pem. What a site target uses when no web server
// installer applies: `"targets": [{ "id": "shop", "names": [...], "services": ["files"] }]`.
import { join } from 'node:path';
import { ContainerModule, TOKENS, definePlugin, type CertsmithConfig, type PluginManifest } from '@certsmith/core';
import { FilesInstaller } from './files-installer.js';

export { FilesInstaller } from './files-installer.js';

export const manifest: PluginManifest = definePlugin({
  name: '@certsmith/installer-files',
  version: '0.1.0',
  apiVersion: 1,
  module: new ContainerModule(({ bind }) => {
    bind(TOKENS.Installer)
      .toDynamicValue((ctx) => new FilesInstaller(join(ctx.get<CertsmithConfig>(TOKENS.Config).paths.sslDir, 'live')))
      .inSingletonScope();
  }),
});
export default manifest;
