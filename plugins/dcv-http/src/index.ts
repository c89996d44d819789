// HTTP DCV: the validation file in a docroot (cPanel's local probe, Sectigo's pki-validation file, ACME http-01),
// proved through the address the name resolves to from the root, as the CA will fetch it.
import { join } from 'node:path';
import { ContainerModule, TOKENS, definePlugin, resolveConfigPath, type Bus, type CertsmithConfig, type OptionsOf, type Resolver } from '@certsmith/core';
import { IterativeResolver, authoritativeAddresses } from '@certsmith/dns';
import { CPANEL_LIMITS } from './http-fetch.js';
import { HttpFileDcv } from './http-file-dcv.js';

export { HttpFileDcv, type AskAuthoritative, type HttpFileDcvSettings, type RedirectPolicy } from './http-file-dcv.js';
export { AAAA_UNREACHABLE } from './address-preference.js';
export { DCV_HTTP_ADDRESS_DISAGREES } from './every-address.js';
export { DNS_SERVERS_DISAGREE } from './server-agreement.js';
export { Docroot, type DocrootFile } from './docroot.js';
export { PublishLedger } from './publish-ledger.js';
export { CPANEL_LIMITS, fetchOnce, type FetchLimits, type FetchOutcome } from './http-fetch.js';
export { hostForHttpDcv } from './http-host.js';
export { isPrivateAddress } from './addresses.js';

export const DEFAULT_DOCROOT = '/var/www/html';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    docroot: {
      type: 'string',
      minLength: 1,
      description: 'Directory the web server serves for the names (default /var/www/html); relative to the config file.',
    },
    docroots: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, description: 'Per-target docroots, by target id ("hostname", ...).' },
    probeRedirects: {
      enum: ['none', 'acme'],
      description: "Redirects the local probe may follow when the issuer does not say how its CA follows them: 'none' (default), 'acme' as RFC 8555 CAs.",
    },
    connectTimeoutMs: { type: 'integer', minimum: 100, maximum: 60_000 },
    readTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000 },
  },
} as const;

/** The options a config gives this plugin. */
export type DcvHttpOptions = OptionsOf<typeof OPTIONS_SCHEMA>;

export const manifest = definePlugin({
  name: '@certsmith/dcv-http',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: OPTIONS_SCHEMA,
  module: (options) =>
    new ContainerModule(({ bind }) => {
      bind(TOKENS.DcvMethod).toDynamicValue((ctx) => {
        const config = ctx.get<CertsmithConfig>(TOKENS.Config);
        const at = (path: string) => resolveConfigPath(config, path);
        const docroots = Object.fromEntries(Object.entries(options.docroots ?? {}).map(([id, path]) => [id, at(path)]));
        // Optional here so that servers that never run HTTP DCV load without a resolver; publish() refuses then.
        const resolver = ctx.get<Resolver>(TOKENS.Resolver, { optional: true });
        return new HttpFileDcv(
          {
            docroot: at(options.docroot ?? DEFAULT_DOCROOT),
            docroots,
            serverAddresses: config.server.addresses,
            ledgerDir: join(config.paths.stateDir, 'dcv-http', 'published'),
            probeRedirects: options.probeRedirects ?? 'none',
            limits: {
              ...CPANEL_LIMITS,
              ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
              ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
            },
            ...(resolver instanceof IterativeResolver ? { addressPolicy: resolver.transport.addressPolicy } : {}),
          },
          resolver,
          ctx.get<Bus>(TOKENS.Bus, { optional: true }),
          // Every authoritative server is asked through the run's resolver (its cache, its address policy).
          resolver instanceof IterativeResolver ? (host, signal) => authoritativeAddresses(resolver, host, signal) : undefined,
        );
      });
    }),
});
export default manifest;
