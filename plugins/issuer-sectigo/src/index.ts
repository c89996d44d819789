// Sectigo over ACME: its DV directory by default, External Account Binding required, orders that may stay
// `processing` for long: a run waits a while, then the order is left pending and resumed by the next run.
import { acmeIssuerModule } from '@certsmith/acme';
import { definePlugin } from '@certsmith/core';
import { SECTIGO_CA } from './ca.js';
import { OPTIONS_SCHEMA } from './options.js';

export { SECTIGO_CA, SECTIGO_CAA_IDENTITIES, SECTIGO_DV_DIRECTORY } from './ca.js';
export { OPTIONS_SCHEMA } from './options.js';
export { DEFAULT_SECTIGO_CA_DOMAIN, sectigoChallenge, sectigoFile, sectigoHttpFile, type SectigoFile, type SectigoRequest } from './file-dcv.js';

export const manifest = definePlugin({
  name: '@certsmith/issuer-sectigo',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: OPTIONS_SCHEMA,
  module: (options, { where }) => acmeIssuerModule(SECTIGO_CA, options, where),
});
export default manifest;
