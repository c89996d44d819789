import { resolveConfigPath, type CertsmithConfig, type OptionsOf } from '@certsmith/core';
import { join } from 'node:path';
import { subjectToken } from './names.js';

/** What the event stream keeps an event when the plugin makes it (never less than its 48 h duplicate window). */
export const DEFAULT_EVENT_RETENTION_DAYS = 30;

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['servers'],
  properties: {
    servers: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^(nats|tls)://[^\\s/]+:[0-9]{1,5}$' },
      description: 'The NATS servers, as nats://host:port.',
    },
    credentialsFile: { type: 'string', minLength: 1, description: 'A NATS credentials file (JWT and NKey seed), mode 0600 or stricter.' },
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        caFile: { type: 'string', minLength: 1, description: "PEM file of the CA that signed the servers' certificates." },
        certFile: { type: 'string', minLength: 1, description: 'Client certificate (PEM), for servers that verify clients.' },
        keyFile: { type: 'string', minLength: 1, description: "The client certificate's key (PEM)." },
      },
    },
    stream: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'JetStream stream of the lifecycle events (default CERTSMITH_EVENTS).' },
    eventRetentionDays: {
      type: 'integer',
      minimum: 2,
      maximum: 3650,
      description: 'Days the event stream keeps an event, set when the plugin makes the stream (default 30; at least the 2 days of its duplicate window).',
    },
    statusBucket: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: "KV bucket of every host's status (default certsmith-status)." },
    ledgerBucket: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'KV bucket of the shared rate limits (default certsmith-ledger).' },
    leaseBucket: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'KV bucket of the order slots (default certsmith-leases).' },
    ordersInFlight: { type: 'integer', minimum: 1, maximum: 1000, description: 'Orders in flight per CA account across the fleet (default 10).' },
    leaseSeconds: { type: 'integer', minimum: 1, maximum: 86_400, description: "A slot's lease: a host that dies frees it after this (default 300)." },
    maxWaitMs: { type: 'integer', minimum: 100, maximum: 600_000, description: 'Most a run waits on NATS unreachable or slow, in all (default 2000).' },
    slotWaitSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      description:
        "Most a run waits for a CA account's free slot while the fleet answers that all are taken, from its first wait; then orders go without one (default 900).",
    },
  },
} as const;

export type RawFleetOptions = OptionsOf<typeof OPTIONS_SCHEMA>;

export interface FleetSettings {
  servers: string[];
  credentialsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  stream: string;
  eventRetentionDays: number;
  statusBucket: string;
  ledgerBucket: string;
  leaseBucket: string;
  ordersInFlight: number;
  leaseSeconds: number;
  maxWaitMs: number;
  slotWaitSeconds: number;
  /** The config's hostname, as the status and the rate limits name it. */
  hostname: string;
  /** The hostname as one subject token and KV key part (dots separate tokens). */
  host: string;
  spoolFile: string;
  /** What the fleet last acknowledged of the host's status (see LastReport). */
  reportFile: string;
}

/** Completes the options with the config's hostname and state directory; relative paths are the config's. */
export function settingsOf(raw: RawFleetOptions, config: Pick<CertsmithConfig, 'file' | 'hostname' | 'paths'>): FleetSettings {
  const path = (file: string | undefined) => (file === undefined ? undefined : resolveConfigPath(config, file));
  const tls = raw.tls && { caFile: path(raw.tls.caFile), certFile: path(raw.tls.certFile), keyFile: path(raw.tls.keyFile) };
  return {
    servers: [...raw.servers],
    credentialsFile: path(raw.credentialsFile),
    tls,
    stream: raw.stream ?? 'CERTSMITH_EVENTS',
    eventRetentionDays: raw.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS,
    statusBucket: raw.statusBucket ?? 'certsmith-status',
    ledgerBucket: raw.ledgerBucket ?? 'certsmith-ledger',
    leaseBucket: raw.leaseBucket ?? 'certsmith-leases',
    ordersInFlight: raw.ordersInFlight ?? 10,
    leaseSeconds: raw.leaseSeconds ?? 300,
    maxWaitMs: raw.maxWaitMs ?? 2_000,
    slotWaitSeconds: raw.slotWaitSeconds ?? 900,
    hostname: config.hostname,
    host: subjectToken(config.hostname),
    spoolFile: join(config.paths.stateDir, 'fleet-spool.jsonl'),
    reportFile: join(config.paths.stateDir, 'fleet-report.json'),
  };
}
