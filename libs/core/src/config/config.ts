import { readFile } from 'node:fs/promises';
import { hostname as systemHostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import type { ParseError } from 'jsonc-parser';
import { UsageError } from '../errors.js';
import type { KeySpec } from '../contracts.js';
import schema from './config.schema.json' with { type: 'json' };
import { BARE_PROFILES, type Profile, type ProfileName, type Profiles } from './profiles.js';
import { validatorFor, type SchemaValidator } from './standalone.js';

export const DEFAULT_CONFIG_PATH = '/etc/certsmith/config.json';

export interface PluginSpec {
  module: string;
  options: Record<string, unknown>;
  /** Where the config names it, for messages: `$.plugins[1]`, or `profile "full": plugin "@certsmith/dcv-http"`. */
  where: string;
  /** Where its options are: `$.plugins[1].options` (a field of them is `<optionsPath>.<field>`). */
  optionsPath: string;
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
  profile: ProfileName;
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
  /** trustAnchor is null for IANA's root anchors shipped with the resolver (used only when dnssec is on). */
  dns: { rootHints: string | null; timeoutMs: number; retries: number; port: number; dnssec: boolean; trustAnchor: string | null };
}

type RawConfig = {
  profile?: ProfileName;
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
  dns?: { rootHints?: string; timeoutMs?: number; retries?: number; port?: number; dnssec?: boolean; trustAnchor?: string };
};

// cPanel's own matcher (docs/domain-facts.md), with Sectigo and Let's Encrypt as the common providers.
export const DEFAULT_PROVIDER_PATTERNS = ['cPanel.*(Inc\\.|L\\.?L\\.?C\\.?).*Certificat.*Authority', 'Sectigo', "Let's Encrypt"];

// The schema compiled at build time into config-validator.cjs beside this file (dist/); from the sources (tests), by ajv.
let configValidator: SchemaValidator | undefined;
function validateRaw(raw: unknown): raw is RawConfig {
  configValidator ??= validatorFor(schema, 'config', new URL('./config-validator.cjs', import.meta.url));
  return configValidator(raw);
}

/**
 * Reads, validates and completes a config file with the profiles the composition declares. Every problem is a
 * UsageError naming the file and the JSON path.
 */
export async function loadConfig(file: string, profiles: Profiles = BARE_PROFILES): Promise<CertsmithConfig> {
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
    throw new UsageError('CONFIG_INVALID_JSON', `${path}:${await jsonErrorPlace(text, (error as Error).message)}`);
  }
  return completeConfig(raw, path, profiles);
}

// jsonc-parser's error codes in words (ParseErrorCode names); comments are refused as JSON refuses them.
const JSON_FAULTS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'a property name in double quotes was expected',
  ValueExpected: 'a value was expected',
  ColonExpected: 'a colon was expected',
  CommaExpected: 'a comma was expected',
  CloseBraceExpected: 'a closing "}" was expected',
  CloseBracketExpected: 'a closing "]" was expected',
  EndOfFileExpected: 'nothing may follow the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidUnicode: 'a bad \\u escape',
  InvalidEscapeCharacter: 'a bad escape in a string',
  InvalidCharacter: 'a control character inside a string',
};

/**
 * `line:column: not valid JSON: what` for text that JSON.parse refused, as an editor would show it. V8's message
 * gives no position for some faults ("Unexpected token"), so the place comes from jsonc-parser, loaded only here.
 */
export async function jsonErrorPlace(text: string, parseMessage: string): Promise<string> {
  const { parse, printParseErrorCode } = await import('jsonc-parser');
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return ` not valid JSON: ${parseMessage}`;
  const before = text.slice(0, first.offset).split('\n');
  const code = printParseErrorCode(first.error);
  return `${before.length}:${before.at(-1)!.length + 1}: not valid JSON: ${JSON_FAULTS[code] ?? code}`;
}

/** Validates a parsed config against the schema and applies its profile (from `profiles`, the composition's). */
export function completeConfig(raw: unknown, file: string, profiles: Profiles = BARE_PROFILES): CertsmithConfig {
  if (!validateRaw(raw)) throw new UsageError('CONFIG_INVALID', schemaProblems(configValidator!.errors ?? [], `${file}: `, '$'));
  const at = pathsFrom(dirname(file));
  const profileName = raw.profile ?? 'full';
  const profile = profiles[profileName];
  const hostname = (raw.hostname ?? systemHostname()).toLowerCase().replace(/\.$/, '');
  const stateDir = at(raw.paths?.stateDir ?? '/var/lib/certsmith');
  return {
    file,
    profile: profileName,
    hostname,
    names: (raw.names ?? []).map(bareName),
    paths: {
      stateDir,
      sslDir: at(raw.paths?.sslDir ?? '/var/cpanel/ssl'),
      logDir: at(raw.paths?.logDir ?? resolve(stateDir, 'logs')),
    },
    plugins: pluginsOf(raw, profileName, profile, at),
    issuers: raw.issuers ?? profile.issuers,
    services: servicesOf(raw, profile),
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
    targets: targetsOf(raw, file, at),
    dns: {
      rootHints: raw.dns?.rootHints ? at(raw.dns.rootHints) : null,
      timeoutMs: raw.dns?.timeoutMs ?? 2_000,
      retries: raw.dns?.retries ?? 1,
      port: raw.dns?.port ?? 53,
      dnssec: raw.dns?.dnssec ?? false,
      trustAnchor: raw.dns?.trustAnchor ? at(raw.dns.trustAnchor) : null,
    },
  };
}

const bareName = (name: string) => name.toLowerCase().replace(/\.$/, '');
const pathsFrom = (dir: string) => (p: string) => (isAbsolute(p) ? p : resolve(dir, p));

/** The profile's services, each overridden by the config's entry of the same id, or removed by `false`. */
function servicesOf(raw: RawConfig, profile: Profile): Record<string, ServiceConfig> {
  const services: Record<string, ServiceConfig> = {};
  for (const [id, value] of Object.entries({ ...profile.services, ...(raw.services ?? {}) })) {
    if (value !== false) services[id] = { ...(profile.services[id] ?? {}), ...value };
  }
  return services;
}

/**
 * The profile's plugins, then the config's. A config entry naming a profile plugin gives it options; any other entry
 * is one more instance, so that one plugin may be listed twice (two accounts of one CA, with different issuer ids).
 */
function pluginsOf(raw: RawConfig, profileName: ProfileName, profile: Profile, at: (p: string) => string): PluginSpec[] {
  const plugins: PluginSpec[] = profile.plugins.map((module) => {
    const where = `profile "${profileName}": plugin "${module}"`;
    return { module, options: {}, where, optionsPath: `${where}: options` };
  });
  const profileSlots = new Map(plugins.map((p, index) => [p.module, index]));
  (raw.plugins ?? []).forEach((spec, index) => {
    const module = typeof spec === 'string' ? spec : spec.module;
    const entry: PluginSpec = {
      module: module.startsWith('.') ? at(module) : module,
      options: typeof spec === 'string' ? {} : (spec.options ?? {}),
      where: `$.plugins[${index}]`,
      optionsPath: `$.plugins[${index}].options`,
    };
    const slot = profileSlots.get(entry.module);
    profileSlots.delete(entry.module);
    if (slot === undefined) plugins.push(entry);
    else plugins[slot] = entry;
  });
  return plugins;
}

function targetsOf(raw: RawConfig, file: string, at: (p: string) => string): CertsmithConfig['targets'] {
  const targetIds = new Set<string>();
  return (raw.targets ?? []).map((t, index) => {
    if (t.id === 'hostname') throw new UsageError('CONFIG_INVALID', `${file}: $.targets[${index}].id: "hostname" is the server's own target`);
    // A set, not a search per target: a config of 10,000 sites is read by every run and every status.
    if (targetIds.has(t.id)) throw new UsageError('CONFIG_INVALID', `${file}: $.targets[${index}].id: "${t.id}" is used twice`);
    targetIds.add(t.id);
    return {
      id: t.id,
      names: t.names.map(bareName),
      services: t.services ?? ['web'],
      ...(t.docroot ? { docroot: at(t.docroot) } : {}),
    };
  });
}

/** Where an issuer keeps its state (its CA account, say): a folder of its own in the state directory. */
export function issuerStateDir(config: Pick<CertsmithConfig, 'paths'>, issuerId: string): string {
  return `${config.paths.stateDir}/issuers/${issuerId}`;
}

/** Resolves a path from a config value against the config file's directory. */
export function resolveConfigPath(config: Pick<CertsmithConfig, 'file'>, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(config.file), path);
}

/**
 * Validates a plugin's options against the schema its manifest ships. `where`: the config file and the options'
 * path in it (`{ file: '/etc/certsmith/config.json', path: '$.plugins[1].options' }`), or a label for the options as
 * a whole (their fields are then `$.<field>`). `generatedValidator`: the file where the plugin's build put the
 * schema's standalone validator (used when it matches the schema; else ajv compiles it now).
 */
export function validateOptions(schemaOf: object, options: unknown, where: string | { file: string; path: string }, generatedValidator?: URL): void {
  const [prefix, root] = typeof where === 'string' ? [`${where}: `, '$'] : [`${where.file}: `, where.path];
  let validate;
  try {
    validate = validatorFor(schemaOf, 'plugin-options', generatedValidator);
  } catch (error) {
    throw new UsageError('PLUGIN_INVALID', `${prefix}${root}: the plugin's optionsSchema is not a valid JSON Schema (${(error as Error).message})`);
  }
  if (!validate(options)) throw new UsageError('PLUGIN_OPTIONS_INVALID', schemaProblems(validate.errors ?? [], prefix, root));
}

/**
 * Every complaint of the schema a person should read, one line each (`<prefix><path>: what`), in document order:
 * never "must be string" from the branch of a oneOf that the value obviously did not mean to take, and never the
 * oneOf itself when a complaint inside it says more.
 */
function schemaProblems(errors: ErrorObject[], prefix: string, root: string): string {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const candidates = errors.filter((e) => !((e.keyword === 'type' || e.keyword === 'const') && oneOfPaths.has(e.instancePath)));
  const specific = candidates.filter((e) => e.keyword !== 'oneOf' || !candidates.some((o) => o !== e && o.instancePath.startsWith(e.instancePath)));
  const lines = (specific.length ? specific : errors).map((e) => prefix + describeSchemaError(e, root));
  return [...new Set(lines.length ? lines : [`${prefix}${root}: does not match the schema`])].join('\n');
}

function describeSchemaError(error: ErrorObject, root: string): string {
  const path =
    root + error.instancePath.replace(/\/([^/]*)/g, (_m, seg: string) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`));
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
