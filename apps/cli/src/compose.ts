import 'reflect-metadata';
import { mkdir, stat, access, constants } from 'node:fs/promises';
import {
  Container,
  ContainerModule,
  NO_FAULTS,
  Pipeline,
  TOKENS,
  UsageError,
  createBus,
  loadConfig,
  loadPlugins,
  type Bus,
  type CertsmithConfig,
  type Clock,
  type Contributions,
  type FaultPoints,
  type LoadedPlugin,
  type PipelineDeps,
  type Resolver,
} from '@certsmith/core';
import { IterativeResolver, type AddressPolicy } from '@certsmith/dns';
import { CertificateInspector, RevocationChecker, TlsLiveProbe, WebCryptoCsrFactory } from '@certsmith/x509';
import { BUILTIN_PLUGINS } from './builtin-plugins.js';
import { PROFILES } from './profiles.js';

export interface Composition {
  config: CertsmithConfig;
  bus: Bus;
  clock: Clock;
  plugins: LoadedPlugin[];
  contributions: Contributions;
  inspector: CertificateInspector;
  csrFactory: WebCryptoCsrFactory;
  /** The run's resolver (the one bound to TOKENS.Resolver), for the pipeline's CAA step. */
  resolver: Resolver;
}

/**
 * What a test composition binds in place of the program's own: a fixed clock, fault points that kill the process at a
 * named step, a DNS policy that keeps every query on loopback. The shipped program gives none of them.
 */
export interface Overrides {
  clock?: Clock;
  faults?: FaultPoints;
  dnsAddresses?: AddressPolicy;
}

/** A run's pipeline over the composition; `run` adds what the command decides (switches, report, scheduler, resolver). */
export function pipelineOf(composition: Composition, run: Pick<PipelineDeps, 'switches' | 'report'> & Partial<PipelineDeps>): Pipeline {
  const { config, bus, clock, inspector, csrFactory, contributions } = composition;
  const { issuers, installers, dcv } = contributions;
  return new Pipeline({ config, bus, clock, inspector, csrFactory, issuers, installers, dcv, ...run });
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/** The composition root: config, core services, plugins. Everything that can be wrong with the input fails here. */
export async function compose(configFile: string, overrides: Overrides = {}): Promise<Composition> {
  const config = await loadConfig(configFile, PROFILES);
  const bus = createBus();
  const clock = overrides.clock ?? SYSTEM_CLOCK;
  const csrFactory = new WebCryptoCsrFactory();
  const resolver = resolverOf(config, overrides.dnsAddresses);
  const root = new Container();
  // The core services plugin classes may inject; the resolver is shared so that DCV plugins use the run's cache.
  await root.loadAsync(
    new ContainerModule(({ bind }) => {
      bind(TOKENS.Config).toConstantValue(config);
      bind(TOKENS.Bus).toConstantValue(bus);
      bind(TOKENS.Clock).toConstantValue(clock);
      bind(TOKENS.FaultPoints).toConstantValue(overrides.faults ?? NO_FAULTS);
      bind(TOKENS.Resolver).toConstantValue(resolver);
    }),
  );
  const plugins = await loadPlugins(config, root, bus, [import.meta.filename], BUILTIN_PLUGINS);
  const contributions: Contributions = { issuers: [], installers: [], dcv: [], notifiers: [], schedulers: [], statusSinks: [], fleet: [] };
  for (const plugin of plugins) {
    for (const key of Object.keys(contributions) as (keyof Contributions)[]) {
      (contributions[key] as unknown[]).push(...plugin.contributes[key]);
    }
  }
  config.issuers.forEach((id, index) => {
    if (!contributions.issuers.some((i) => i.id === id)) {
      const known = contributions.issuers.map((i) => `"${i.id}"`).join(', ') || 'none';
      throw new UsageError('CONFIG_INVALID', `${config.file}: $.issuers[${index}]: no loaded plugin provides issuer "${id}" (loaded: ${known})`);
    }
  });
  const inspector = new CertificateInspector(new TlsLiveProbe({ timeoutMs: config.inspection.timeoutMs }), resolver, {
    revocation: new RevocationChecker({ timeoutMs: config.inspection.timeoutMs }),
  });
  return { config, bus, clock, plugins, contributions, inspector, csrFactory, resolver };
}

/**
 * Iterative resolution from the configured root hints (the IANA hints shipped with @certsmith/dns by default). A zone
 * the DNSSEC validator treats as unsigned for want of its algorithm is said once on stderr, as a warning.
 */
function resolverOf(config: CertsmithConfig, addresses?: AddressPolicy): IterativeResolver {
  const warn = ({ code, message }: { code: string; message: string }) => process.stderr.write(`certsmith: warning: ${code}: ${message}\n`);
  try {
    return IterativeResolver.fromConfig(config.dns, config.server.addresses, addresses, warn);
  } catch (error) {
    if (error instanceof UsageError) throw error; // a bad trust anchor file, named by the resolver
    throw new UsageError('CONFIG_INVALID', `${config.file}: $.dns.rootHints: ${(error as Error).message}`);
  }
}

/**
 * The state and SSL directories exist (created when missing) and can be written; else a UsageError naming them.
 * Both are checked before either is created, so that a bad path leaves nothing behind.
 */
export async function prepareDirectories(config: CertsmithConfig): Promise<void> {
  const dirs: [string, string, number][] = [
    ['$.paths.stateDir', config.paths.stateDir, 0o700],
    ['$.paths.sslDir', config.paths.sslDir, 0o755],
  ];
  const missing: [string, string, number][] = [];
  for (const [field, dir, mode] of dirs) {
    try {
      const st = await stat(dir);
      if (!st.isDirectory()) throw new UsageError('DIR_INVALID', `${config.file}: ${field}: ${dir} is not a directory`);
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') missing.push([field, dir, mode]);
      else
        throw new UsageError(
          'DIR_INVALID',
          `${config.file}: ${field}: ${dir} is not usable (${code === 'EACCES' ? 'permission denied' : (code ?? (error as Error).message)})`,
        );
    }
  }
  for (const [field, dir, mode] of missing) {
    try {
      await mkdir(dir, { recursive: true, mode });
    } catch (error) {
      throw new UsageError(
        'DIR_INVALID',
        `${config.file}: ${field}: cannot create ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  }
}

/** Does a dry run see usable directories, without creating anything? */
export async function checkDirectoriesReadOnly(config: CertsmithConfig): Promise<void> {
  for (const [field, dir] of [
    ['$.paths.stateDir', config.paths.stateDir],
    ['$.paths.sslDir', config.paths.sslDir],
  ] as const) {
    try {
      const st = await stat(dir);
      if (!st.isDirectory()) throw new UsageError('DIR_INVALID', `${config.file}: ${field}: ${dir} is not a directory`);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new UsageError('DIR_INVALID', `${config.file}: ${field}: ${dir} is not usable (${(error as NodeJS.ErrnoException).code})`);
      }
    }
  }
}
