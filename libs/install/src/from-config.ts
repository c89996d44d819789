import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  UsageError,
  resolveConfigPath,
  type Bus,
  type CertsmithConfig,
  type Endpoint,
  type FaultPoints,
  type LiveObservation,
  type ServiceConfig,
  type ServiceMaterial,
} from '@certsmith/core';
import { TlsLiveProbe } from '@certsmith/x509';
import { gidOf, uidOf } from './accounts.js';
import { forDistro, readDistroFamily, type DistroFamily } from './distro.js';
import { FileInstaller, type FileContent, type FileInstallerOptions, type LayoutFile } from './file-installer.js';
import type { ServiceProfile } from './layouts.js';

/** The options every installer reads from `services.<id>` beside endpoints/reload/reloadTimeoutMs. */
export interface InstallSettings {
  /** The service's directory; default `<paths.sslDir>/<profile dir>`. */
  dir?: string;
  /** Owner and group of the files (names or numbers); a group makes keys 0640 to it. */
  owner?: string;
  group?: string;
  /** Mode of files holding the key, as an octal string ("0600" or "0640"). */
  keyMode?: string;
  /** cPanel's extra paths (true), your own (path → content), or none (false, the default). */
  links?: boolean | Record<string, FileContent>;
  /** Keep `<svc>-CN`, `-DOMAINS`, `-NOT_AFTER` beside the files (default true). */
  metadata?: boolean;
  /** How long the live proof may wait for the new certificate (default 15000). */
  proofTimeoutMs?: number;
}

export interface InstallerDeps {
  bus?: Bus;
  /** Told each install step (the composition's TOKENS.FaultPoints); default NO_FAULTS. */
  faults?: FaultPoints;
  /** Replaces the TLS probe (tests). */
  observe?: (endpoints: Endpoint[], signal: AbortSignal) => Promise<LiveObservation[]>;
  followers?: (current: ServiceMaterial) => Promise<LayoutFile[]>;
  /** The distribution family whose unit names the default reload uses; default: this system's (/etc/os-release). */
  distroFamily?: DistroFamily;
  /** Whether systemd runs here (the default reload is used only then); default: sd_booted(). */
  systemdRunning?: boolean;
}

let systemFamily: DistroFamily | undefined;

const CONTENTS: FileContent[] = ['key+cert+chain', 'key+cert', 'cert+chain', 'cert', 'key', 'chain'];

/** A FileInstaller for a service as the config describes it (files, owners, links, endpoints, reload, timeouts). */
export function installerFromConfig(config: CertsmithConfig, service: string, profile: ServiceProfile, deps: InstallerDeps = {}): FileInstaller {
  const settings = (config.services[service] ?? {}) as ServiceConfig & InstallSettings;
  const where = `${config.file}: $.services.${service}`;
  const dir = settings.dir !== undefined ? resolveConfigPath(config, stringField(settings.dir, `${where}.dir`)) : join(config.paths.sslDir, profile.dir);
  const uid = settings.owner !== undefined ? account(() => uidOf(stringField(settings.owner, `${where}.owner`)), `${where}.owner`) : undefined;
  const gid = settings.group !== undefined ? account(() => gidOf(stringField(settings.group, `${where}.group`)), `${where}.group`) : undefined;
  let keyMode = gid !== undefined ? 0o640 : 0o600;
  if (settings.keyMode !== undefined) {
    if (typeof settings.keyMode !== 'string' || !/^0?[0-7]{3}$/.test(settings.keyMode) || (Number.parseInt(settings.keyMode, 8) & 0o037) !== 0) {
      throw new UsageError(
        'CONFIG_INVALID',
        `${where}.keyMode: must be an octal mode that others cannot read and the group cannot write, e.g. "0600" or "0640"`,
      );
    }
    keyMode = Number.parseInt(settings.keyMode, 8);
  }
  const own = (f: LayoutFile): LayoutFile => ({ ...f, mode: f.content.includes('key') ? keyMode : f.mode, uid, gid });

  const base = profile.layout(dir);
  let links: LayoutFile[] = [];
  if (settings.links === true) links = profile.links(dir);
  else if (settings.links && typeof settings.links === 'object') {
    links = Object.entries(settings.links).map(([path, content]) => {
      if (!CONTENTS.includes(content)) throw new UsageError('CONFIG_INVALID', `${where}.links["${path}"]: must be one of ${CONTENTS.join(', ')}`);
      const role = content === 'key' ? 'key' : content === 'chain' ? 'chain' : content.startsWith('key+') ? 'combined' : 'certificate';
      return { path: resolveConfigPath(config, path), role, content, mode: 0o644 } satisfies LayoutFile;
    });
  } else if (settings.links !== undefined && settings.links !== false) {
    throw new UsageError('CONFIG_INVALID', `${where}.links: must be true, false or an object of path → content`);
  }

  const { reload, why: reloadWhy } = reloadOf(settings.reload, profile, `$.services.${service}.reload`, deps);

  const probe = deps.observe ? null : new TlsLiveProbe({ timeoutMs: config.inspection.timeoutMs });
  const options: FileInstallerOptions = {
    service,
    layout: {
      caSigned: base.caSigned.map(own),
      selfSigned: base.selfSigned.map(own),
      links: links.map(own),
      // Beside the service's files (the web server's may live in its vhost directory).
      metadataDir: settings.metadata === false ? undefined : dirname((base.caSigned[0] ?? base.selfSigned[0])!.path),
    },
    endpoints: (settings.endpoints ?? []).map((e) => ({ host: e.host, port: e.port, starttls: e.starttls ?? null, servername: e.servername })),
    reload,
    reloadWhy,
    reloadTimeoutMs: settings.reloadTimeoutMs ?? 30_000,
    proofTimeoutMs: typeof settings.proofTimeoutMs === 'number' ? settings.proofTimeoutMs : 15_000,
    stateDir: config.paths.stateDir,
    observe: deps.observe ?? ((endpoints, signal) => probe!.observe(endpoints, signal)),
    followers: deps.followers,
    bus: deps.bus,
    faults: deps.faults,
  };
  return new FileInstaller(options);
}

/**
 * The reload: the config's (an argv, or false for none), else the profile's systemd command for this distribution
 * family (Debian's exim4, RHEL's exim...) when systemd runs, else none. `why` says which, for `certsmith plugins`.
 */
function reloadOf(given: ServiceConfig['reload'], profile: ServiceProfile, field: string, deps: InstallerDeps): { reload: string[] | null; why: string } {
  if (Array.isArray(given)) return { reload: given, why: `from ${field}` };
  if (given === false) return { reload: null, why: `none: ${field} is false` };
  const family = deps.distroFamily ?? (systemFamily ??= readDistroFamily());
  const command = forDistro(profile.systemdReload, family);
  const running = deps.systemdRunning ?? existsSync('/run/systemd/system'); // sd_booted()
  const name = family === 'other' ? 'the default' : `the ${family === 'debian' ? 'Debian' : 'RHEL'} family's default`;
  if (!running) return { reload: null, why: `none: systemd is not running here (${name} would be: ${command.join(' ')}; set ${field})` };
  return { reload: command, why: `${name} (set ${field} to change it)` };
}

function stringField(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new UsageError('CONFIG_INVALID', `${where}: must be a non-empty string`);
  return value;
}

function account(lookup: () => number, where: string): number {
  try {
    return lookup();
  } catch (error) {
    throw new UsageError('CONFIG_INVALID', `${where}: ${(error as Error).message}`);
  }
}
