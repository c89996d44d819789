import { readFile } from 'node:fs/promises';
import { hostname as systemHostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { UsageError } from '../errors.js';
import type { KeySpec } from '../contracts.js';
import schema from './config.schema.json' with { type: 'json' };
import { PROFILES } from './profiles.js';
import { validatorFor, type SchemaValidator } from './standalone.js';

export const DEFAULT_CONFIG_PATH = '/etc/certsmith/config.json';

export interface PluginSpec {
  module: string;
  options: Record<string, unknown>;
}

export interface ServiceConfig {
  endpoints?: { host: string; port: number; starttls?: 'smtp' | 'imap' | 'pop3' | 'ftp' | null; servername?: string }[];
  reload?: string[] | false;
  reloadTimeoutMs?: number;
  [option: string]: unknown;
}

/** The configuration after the profile was applied and relative paths were resolved. */
export interface CertsmithConfig {
  /** Absolute path of the file this came from. */
  file: string;
  profile: 'full' | 'dnsonly';
  hostname: string;
  names: string[];
  paths: { stateDir: string; sslDir: string; logDir: string };
  plugins: PluginSpec[];
  issuers: string[];
  services: Record<string, ServiceConfig>;
  inspection: {
    providerIssuerPatterns: string[];
    providerThresholdDays: number;
    otherThresholdDays: number;
    live: boolean;
    timeoutMs: number;
  };
  key: KeySpec;
  dcv: { method: 'http' | 'dns'; requireAllNames: boolean; exclude: string[] };
  /** abandonPendingAfterHours: a pending order older than this is abandoned and ordered again without the names holding it. */
  retry: { delayMinutes: number; abandonPendingAfterHours: number };
  /** The per-run event logs under paths.logDir. */
  log: { keepDays: number };
  server: { addresses: string[] };
  /** Targets processed at once: bounds the orders in flight at a CA. */
  concurrency: number;
  /** Per-site targets; the hostname target is implicit. */
  targets: { id: string; names: string[]; services: string[]; docroot?: string }[];
  /** rootHints is null for the IANA hints shipped with the resolver. */
  dns: { rootHints: string | null; timeoutMs: number; retries: number; port: number };
}

type RawConfig = {
  profile?: 'full' | 'dnsonly';
  hostname?: string;
  names?: string[];
  paths?: Partial<CertsmithConfig['paths']>;
  plugins?: (string | { module: string; options?: Record<string, unknown> })[];
  issuers?: string[];
  services?: Record<string, ServiceConfig | false>;
  inspection?: Partial<CertsmithConfig['inspection']>;
  key?: Partial<KeySpec>;
  dcv?: Partial<CertsmithConfig['dcv']>;
  retry?: Partial<CertsmithConfig['retry']>;
  log?: Partial<CertsmithConfig['log']>;
  server?: Partial<CertsmithConfig['server']>;
  concurrency?: number;
  targets?: { id: string; names: string[]; services?: string[]; docroot?: string }[];
  dns?: { rootHints?: string; timeoutMs?: number; retries?: number; port?: number };
};

// cPanel's own matcher (DOMAIN.md), with Sectigo and Let's Encrypt as the common providers.
export const DEFAULT_PROVIDER_PATTERNS = ['cPanel.*(Inc\\.|L\\.?L\\.?C\\.?).*Certificat.*Authority', 'Sectigo', "Let's Encrypt"];

// The schema compiled at build time into config-validator.cjs beside this file (dist/); from the sources (tests), by ajv.
let configValidator: SchemaValidator | undefined;
function validateRaw(raw: unknown): raw is RawConfig {
  configValidator ??= validatorFor(schema, 'config', new URL('./config-validator.cjs', import.meta.url));
  return configValidator(raw);
}

/** Reads, validates and completes a config file. Every problem is a UsageError naming the file and the JSON path. */
export async function loadConfig(file: string): Promise<CertsmithConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code);
    throw new UsageError('CONFIG_UNREADABLE', `${path}: cannot read the configuration (${why})`, {
      hint: code === 'ENOENT' ? 'create it from examples/full.json or pass --config' : undefined,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError('CONFIG_INVALID_JSON', `${path}: not valid JSON (${(error as Error).message})`);
  }
  return completeConfig(raw, path);
}

/** Validates a parsed config against the schema and applies its profile. */
export function completeConfig(raw: unknown, file: string): CertsmithConfig {
  if (!validateRaw(raw)) throw new UsageError('CONFIG_INVALID', `${file}: ${describeSchemaError(mostSpecific(configValidator!.errors ?? []))}`);
  const dir = dirname(file);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const profileName = raw.profile ?? 'full';
  const profile = PROFILES[profileName];

  const services: Record<string, ServiceConfig> = {};
  for (const [id, value] of Object.entries({ ...profile.services, ...(raw.services ?? {}) })) {
    if (value !== false) services[id] = { ...(profile.services[id] ?? {}), ...value };
  }

  const plugins: PluginSpec[] = [];
  const seen = new Set<string>();
  for (const spec of [...profile.plugins, ...(raw.plugins ?? [])]) {
    const entry = typeof spec === 'string' ? { module: spec, options: {} } : { module: spec.module, options: spec.options ?? {} };
    if (entry.module.startsWith('.')) entry.module = at(entry.module);
    const existing = plugins.findIndex((p) => p.module === entry.module);
    if (existing >= 0)
      plugins[existing] = entry; // a config entry may give options to a profile plugin
    else plugins.push(entry);
    seen.add(entry.module);
  }

  const hostname = (raw.hostname ?? systemHostname()).toLowerCase().replace(/\.$/, '');
  const stateDir = at(raw.paths?.stateDir ?? '/var/lib/certsmith');
  return {
    file,
    profile: profileName,
    hostname,
    names: (raw.names ?? []).map((n) => n.toLowerCase().replace(/\.$/, '')),
    paths: {
      stateDir,
      sslDir: at(raw.paths?.sslDir ?? '/var/cpanel/ssl'),
      logDir: at(raw.paths?.logDir ?? resolve(stateDir, 'logs')),
    },
    plugins,
    issuers: raw.issuers ?? profile.issuers,
    services,
    inspection: {
      providerIssuerPatterns: raw.inspection?.providerIssuerPatterns ?? DEFAULT_PROVIDER_PATTERNS,
      providerThresholdDays: raw.inspection?.providerThresholdDays ?? 25,
      otherThresholdDays: raw.inspection?.otherThresholdDays ?? 3,
      live: raw.inspection?.live ?? true,
      timeoutMs: raw.inspection?.timeoutMs ?? 10_000,
    },
    key: { type: raw.key?.type ?? 'ecdsa-p256' },
    dcv: {
      method: profile.dcvMethod,
      requireAllNames: raw.dcv?.requireAllNames ?? false,
      exclude: (raw.dcv?.exclude ?? []).map((n) => n.toLowerCase()),
    },
    retry: { delayMinutes: raw.retry?.delayMinutes ?? 60, abandonPendingAfterHours: raw.retry?.abandonPendingAfterHours ?? 72 },
    log: { keepDays: raw.log?.keepDays ?? 30 },
    server: { addresses: raw.server?.addresses ?? [] },
    // Eight targets at a time keep the CA busy while others are pre-checked and installed; the CA itself sees no more
    // orders at once than before, as the ACME issuers let at most 4 of their orders in flight (docs/performance.md).
    concurrency: raw.concurrency ?? 8,
    targets: (raw.targets ?? []).map((t, index) => {
      if (t.id === 'hostname') throw new UsageError('CONFIG_INVALID', `${file}: $.targets[${index}].id: "hostname" is the server's own target`);
      if ((raw.targets ?? []).findIndex((o) => o.id === t.id) !== index)
        throw new UsageError('CONFIG_INVALID', `${file}: $.targets[${index}].id: "${t.id}" is used twice`);
      return {
        id: t.id,
        names: t.names.map((n) => n.toLowerCase().replace(/\.$/, '')),
        services: t.services ?? ['web'],
        ...(t.docroot ? { docroot: at(t.docroot) } : {}),
      };
    }),
    dns: {
      rootHints: raw.dns?.rootHints ? at(raw.dns.rootHints) : null,
      timeoutMs: raw.dns?.timeoutMs ?? 2_000,
      retries: raw.dns?.retries ?? 1,
      port: raw.dns?.port ?? 53,
    },
  };
}

/** Resolves a path from a config value against the config file's directory. */
export function resolveConfigPath(config: Pick<CertsmithConfig, 'file'>, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(config.file), path);
}

/**
 * Validates a plugin's options against the schema its manifest ships. `generatedValidator`: the file where the
 * plugin's build put the schema's standalone validator (used when it matches the schema; else ajv compiles it now).
 */
export function validateOptions(schemaOf: object, options: unknown, where: string, generatedValidator?: URL): void {
  let validate;
  try {
    validate = validatorFor(schemaOf, 'plugin-options', generatedValidator);
  } catch (error) {
    throw new UsageError('PLUGIN_INVALID', `${where}: the plugin's optionsSchema is not a valid JSON Schema (${(error as Error).message})`);
  }
  if (!validate(options)) throw new UsageError('PLUGIN_OPTIONS_INVALID', `${where}: ${describeSchemaError(validate.errors?.[0])}`);
}

/**
 * Of all the schema's complaints, the one a person should read: the deepest, and never "must be string" from the
 * branch of a oneOf that the value obviously did not mean to take.
 */
function mostSpecific(errors: ErrorObject[]): ErrorObject | undefined {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const candidates = errors.filter(
    (e) => !(e.keyword === 'type' && oneOfPaths.has(e.instancePath)) && !(e.keyword === 'const' && oneOfPaths.has(e.instancePath)),
  );
  const specific = candidates.filter((e) => e.keyword !== 'oneOf' || !candidates.some((o) => o !== e && o.instancePath.startsWith(e.instancePath)));
  const pool = specific.length ? specific : errors;
  return pool.reduce<ErrorObject | undefined>((best, e) => (!best || e.instancePath.length > best.instancePath.length ? e : best), undefined);
}

function describeSchemaError(error: ErrorObject | undefined): string {
  if (!error) return 'does not match the schema';
  const path =
    '$' + error.instancePath.replace(/\/([^/]*)/g, (_m, seg: string) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`));
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${path}: unknown field "${String(params.additionalProperty)}"`;
    case 'required':
      return `${path}: missing required field "${String(params.missingProperty)}"`;
    case 'enum':
      return `${path}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'type':
      return `${path}: must be ${String(params.type)}`;
    case 'oneOf':
      return `${path}: does not match any allowed form (see the schema's description of this field)`;
    default:
      return `${path}: ${error.message ?? 'is not valid'}`;
  }
}
