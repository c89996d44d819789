import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  UsageError,
  resolveConfigPath,
  type Bus,
  type CertsmithConfig,
  type Endpoint,
  type LiveObservation,
  type ServiceConfig,
  type ServiceMaterial,
} from '@certsmith/core';
import { TlsLiveProbe } from '@certsmith/x509';
import { gidOf, uidOf } from './accounts.js';
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
  /** Replaces the TLS probe (tests). */
  observe?: (endpoints: Endpoint[], signal: AbortSignal) => Promise<LiveObservation[]>;
  followers?: (current: ServiceMaterial) => Promise<LayoutFile[]>;
}

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

  let reload: string[] | null = null;
  if (Array.isArray(settings.reload)) reload = settings.reload;
  else if (settings.reload === undefined && existsSync('/run/systemd/system')) reload = profile.systemdReload; // sd_booted()

  const kill = process.env.CERTSMITH_FAULT_KILL_AT; // crash tests only: "<service>:<step>"
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
    reloadTimeoutMs: settings.reloadTimeoutMs ?? 30_000,
    proofTimeoutMs: typeof settings.proofTimeoutMs === 'number' ? settings.proofTimeoutMs : 15_000,
    stateDir: config.paths.stateDir,
    observe: deps.observe ?? ((endpoints, signal) => probe!.observe(endpoints, signal)),
    followers: deps.followers,
    bus: deps.bus,
    faultKillAt: kill?.startsWith(`${service}:`) ? kill.slice(service.length + 1) : undefined,
  };
  return new FileInstaller(options);
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
