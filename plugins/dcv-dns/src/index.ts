// DNS DCV for DNS-only servers: TXT records (cPanel's pre-check, ACME dns-01) and Sectigo's CNAME, published by
// RFC 2136 with TSIG or by zone file + rndc reload, and checked on every authoritative server of the zone.
import { CertsmithError, ContainerModule, TOKENS, definePlugin, resolveConfigPath, type Bus, type CertsmithConfig, type Resolver } from '@certsmith/core';
import { IterativeResolver, readBindKeyFile } from '@certsmith/dns';
import { DnsTxtDcv } from './dns-txt-dcv.js';
import { Rfc2136Publisher } from './rfc2136-publisher.js';
import { ZoneFilePublisher } from './zone-file-publisher.js';
import type { ZonePublisher } from './publishers.js';

export { DnsTxtDcv, PROBE_LABEL, type DnsDcvOptions } from './dns-txt-dcv.js';
export { Rfc2136Publisher, type Rfc2136Options } from './rfc2136-publisher.js';
export { ZoneFilePublisher, bumpSerial, type ZoneFileOptions } from './zone-file-publisher.js';
export type { ChallengeRecord, ZonePublisher } from './publishers.js';

/** The options a config gives this plugin (`plugins: [{ module: "@certsmith/dcv-dns", options: {...} }]`). */
export interface DcvDnsOptions {
  mode?: 'nsupdate' | 'zonefile';
  tsigKeyFile?: string;
  server?: string;
  zones?: string[];
  zoneFiles?: Record<string, string>;
  reloadCommand?: string[];
  ttl?: number;
  pollIntervalMs?: number;
  pollTimeoutMs?: number;
}

export const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { enum: ['nsupdate', 'zonefile'], description: 'How records are published: RFC 2136 update with TSIG (default), or zone file edit + reload.' },
    tsigKeyFile: { type: 'string', minLength: 1, description: 'nsupdate: BIND key file (tsig-keygen -a hmac-sha256 output), mode 0600.' },
    server: { type: 'string', minLength: 1, description: "nsupdate: update server as address or address:port; default the zone's primary (SOA MNAME)." },
    zones: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: 'Zones to publish in; default the zone that holds each name, found from the root.',
    },
    zoneFiles: { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, description: 'zonefile: zone name → zone file.' },
    reloadCommand: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      description: 'zonefile: argv run after each edit, {zone} replaced; default ["rndc", "reload", "{zone}"].',
    },
    ttl: { type: 'integer', minimum: 1, maximum: 86400 },
    pollIntervalMs: { type: 'integer', minimum: 10, maximum: 60000 },
    pollTimeoutMs: {
      type: 'integer',
      minimum: 100,
      maximum: 3600000,
      description: 'How long every authoritative server has to serve the record (default 10 s).',
    },
  },
} as const;

export const manifest = definePlugin({
  name: '@certsmith/dcv-dns',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema,
  module: (raw) =>
    new ContainerModule(({ bind }) => {
      const options = raw as DcvDnsOptions;
      bind(TOKENS.DcvMethod).toDynamicValue((ctx) => {
        const config = ctx.get<CertsmithConfig>(TOKENS.Config);
        const bus = ctx.get<Bus>(TOKENS.Bus);
        // Share the run's resolver (and its cache) when the composition root bound the iterative one.
        const shared = ctx.get<Resolver>(TOKENS.Resolver, { optional: true });
        const resolver = shared instanceof IterativeResolver ? shared : IterativeResolver.fromConfig(config.dns, config.server.addresses);
        const publisher = publisherOf(options, config, resolver);
        return new DnsTxtDcv(resolver, publisher, bus, {
          zones: options.zones,
          ttl: options.ttl ?? 60,
          pollIntervalMs: options.pollIntervalMs ?? 250,
          pollTimeoutMs: options.pollTimeoutMs ?? 10_000,
        });
      });
    }),
});
export default manifest;

function publisherOf(options: DcvDnsOptions, config: CertsmithConfig, resolver: IterativeResolver): ZonePublisher {
  if (options.mode === 'zonefile') {
    return new ZoneFilePublisher({
      zoneFiles: Object.fromEntries(Object.entries(options.zoneFiles ?? {}).map(([zone, file]) => [zone, resolveConfigPath(config, file)])),
      reloadCommand: options.reloadCommand ?? ['rndc', 'reload', '{zone}'],
      reloadTimeoutMs: 30_000,
    });
  }
  // The dnsonly profile loads this plugin before anyone configured it: say what is missing when it is used.
  if (!options.tsigKeyFile) return unconfigured(config.file);
  return new Rfc2136Publisher(resolver, {
    key: readBindKeyFile(resolveConfigPath(config, options.tsigKeyFile)),
    server: options.server,
    port: config.dns.port,
    timeoutMs: Math.max(config.dns.timeoutMs, 3_000),
  });
}

function unconfigured(file: string): ZonePublisher {
  const fail = () =>
    Promise.reject(
      new CertsmithError(
        'DNS_DCV_NOT_CONFIGURED',
        `${file}: @certsmith/dcv-dns has no way to publish: give it "tsigKeyFile" (RFC 2136 updates) or "mode": "zonefile" with "zoneFiles" in its plugin options`,
      ),
    );
  return { describe: () => 'not configured', add: fail, remove: fail };
}
