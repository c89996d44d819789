// Any ACME CA (Let's Encrypt, ZeroSSL, a private CA such as Pebble): the directory URL is required; EAB when the
// CA wants it; a CA file for a private CA's TLS certificate.
import { acmeIssuerModule } from '@certsmith/acme';
import { definePlugin } from '@certsmith/core';
import { ANY_ACME_CA } from './ca.js';
import { OPTIONS_SCHEMA } from './options.js';

export { ANY_ACME_CA, caaIdentitiesOf } from './ca.js';
export { OPTIONS_SCHEMA } from './options.js';

export const manifest = definePlugin({
  name: '@certsmith/issuer-acme',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: OPTIONS_SCHEMA,
  module: (options, { where }) => acmeIssuerModule(ANY_ACME_CA, options, where),
});
export default manifest;
