// The self-signed issuer: the fallback when the CA path fails, as cPanel does.
import { ContainerModule, TOKENS, definePlugin } from '@certsmith/core';
import { SelfSignedIssuer } from './self-signed-issuer.js';

export { SelfSignedIssuer, type SelfSignedOptions } from './self-signed-issuer.js';

export const manifest = definePlugin({
  name: '@certsmith/issuer-selfsigned',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { validityDays: { type: 'integer', minimum: 1, maximum: 3650 } },
  },
  module: (options) =>
    new ContainerModule(({ bind }) => {
      const validityDays = typeof options.validityDays === 'number' ? options.validityDays : 365;
      bind(TOKENS.Issuer).toConstantValue(new SelfSignedIssuer({ validityDays }));
    }),
});
export default manifest;
