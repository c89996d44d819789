import { createRequire } from 'node:module';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Container, ContainerModule } from './inversify.js';
import type { CertsmithConfig } from './config/config.js';
import { validateOptions } from './config/config.js';
import { OPTIONS_VALIDATOR_FILE } from './config/standalone.js';
import type { DcvMethod, FleetLink, Installer, Issuer, Notifier, Scheduler, StatusSink } from './contracts.js';
import { UsageError } from './errors.js';
import type { Bus } from './events.js';
import { TOKENS } from './tokens.js';

/** The plugin API this core speaks. A plugin built for another version is refused. */
export const PLUGIN_API_VERSION = 1;

/** What a plugin package exports, as `manifest` or as its default export. */
export interface PluginManifest {
  name: string;
  version?: string;
  apiVersion: number;
  /** JSON Schema for the `options` a config gives this plugin; checked before the plugin is set up. */
  optionsSchema?: object;
  /**
   * An inversify ContainerModule (or a function of the plugin's options returning one) that binds the plugin's
   * implementations to TOKENS.Issuer, TOKENS.Installer, ... It may inject TOKENS.Config, TOKENS.Bus, TOKENS.Clock,
   * TOKENS.Resolver; a binding may be async (toDynamicValue returning a promise) where it must load something.
   */
  module?: ContainerModule | ((options: Record<string, unknown>, context: PluginModuleContext) => ContainerModule);
  /** The plain alternative, for plugins that do not want inversify. */
  setup?: (context: PluginSetupContext) => void | Promise<void>;
}

/** What a plugin's module factory learns besides its options. */
export interface PluginModuleContext {
  /**
   * Where the options are, for the plugin's own UsageErrors: `<config file>: $.plugins[1].options`; a field of them
   * is `${where}.<field>`.
   */
  where: string;
}

/** The options a plugin's JSON schema admits, as a TypeScript type: the schema is the one statement of them. */
export type OptionsOf<S> = [S] extends [never] ? Record<string, unknown> : S extends JSONSchema ? FromSchema<S> : Record<string, unknown>;

/** A manifest whose module factory sees its options typed by its own schema (declared `as const`). */
export interface PluginDefinition<S> {
  name: string;
  version?: string;
  apiVersion: number;
  optionsSchema?: S;
  module?: ContainerModule | ((options: OptionsOf<S>, context: PluginModuleContext) => ContainerModule);
  setup?: (context: PluginSetupContext) => void | Promise<void>;
}

export interface PluginSetupContext {
  options: Record<string, unknown>;
  /**
   * Where the options are, for the plugin's own UsageErrors: `<config file>: $.plugins[1].options`; a field of them
   * is `${where}.<field>`. A UsageError whose message does not start with the config file is prefixed with it.
   */
  where: string;
  config: CertsmithConfig;
  bus: Bus;
  contribute: {
    issuer(issuer: Issuer): void;
    installer(installer: Installer): void;
    dcv(method: DcvMethod): void;
    notifier(notifier: Notifier): void;
    scheduler(scheduler: Scheduler): void;
    statusSink(sink: StatusSink): void;
    fleet(link: FleetLink): void;
  };
}

export interface Contributions {
  issuers: Issuer[];
  installers: Installer[];
  dcv: DcvMethod[];
  notifiers: Notifier[];
  schedulers: Scheduler[];
  statusSinks: StatusSink[];
  /** At most one is used: the first. */
  fleet: FleetLink[];
}

export interface LoadedPlugin {
  name: string;
  version: string;
  /** The package name or absolute path the config named. */
  spec: string;
  contributes: Contributions;
}

/**
 * A plugin compiled into the program, by the package name a config gives: the app supplies these so that a bundler
 * sees every first-party plugin as a static import. Any other name or path is imported at run time.
 */
export interface BuiltinPlugin {
  /** Imports the plugin's module. */
  load: () => Promise<Record<string, unknown>>;
  /** The URL its module counts as loaded from: its build's files (options-validator.cjs) are beside it. */
  url: () => string;
}

/**
 * Declares a plugin with type checking; its module factory is given options of the type its schema describes. Sound
 * because loadPlugins() checks the options against that schema before it calls the factory.
 */
export function definePlugin<const S extends JSONSchema = never>(definition: PluginDefinition<S>): PluginManifest {
  return definition as PluginManifest;
}

/**
 * Imports every plugin the config names, checks its manifest and options, and instantiates what it contributes.
 * Any fault is a UsageError naming the plugin, raised before any target is touched.
 * `root` holds the core services (Bus, Config, Clock, ...) that plugin classes may inject.
 */
export async function loadPlugins(
  config: CertsmithConfig,
  root: Container,
  bus: Bus,
  resolveFrom: string[],
  builtins: Readonly<Record<string, BuiltinPlugin>> = {},
): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const spec of config.plugins) {
    const where = `${config.file}: ${spec.where}`;
    const builtin = Object.hasOwn(builtins, spec.module) ? builtins[spec.module] : undefined;
    const { manifest, url } = builtin
      ? await builtinManifest(spec.module, builtin, where)
      : await importManifest(spec.module, [config.file, ...resolveFrom], where);
    // A plugin's build may have compiled its schema beside its entry point (scripts/standalone-validator.mjs).
    if (manifest.optionsSchema)
      validateOptions(manifest.optionsSchema, spec.options, { file: config.file, path: spec.optionsPath }, new URL(OPTIONS_VALIDATOR_FILE, url));
    let contributes: Contributions;
    try {
      contributes = await contributionsOf(manifest, spec.options, config, root, bus, `${config.file}: ${spec.optionsPath}`);
    } catch (error) {
      // The plugin's own complaint about its input, read once, at its place in the config.
      if (error instanceof UsageError) {
        if (error.message.startsWith(`${config.file}: `)) throw error;
        throw new UsageError(error.code, `${where}: ${error.message}`, { hint: error.hint, cause: error });
      }
      const what = error instanceof Error ? error.message : String(error);
      throw new UsageError('PLUGIN_FAILED', `${where}: plugin "${manifest.name}" failed to set up: ${what}`, { cause: error });
    }
    loaded.push({ name: manifest.name, version: manifest.version ?? 'unknown', spec: spec.module, contributes });
  }
  refuseDuplicateIds(loaded, config);
  return loaded;
}

/** Two plugin entries giving the same issuer (or notifier...) id would make the chain ambiguous: name both. */
function refuseDuplicateIds(loaded: LoadedPlugin[], config: CertsmithConfig): void {
  const kinds = {
    issuers: 'issuer',
    dcv: 'DCV method',
    notifiers: 'notifier',
    schedulers: 'scheduler',
    statusSinks: 'status sink',
    fleet: 'fleet link',
  } as const;
  for (const [key, kind] of Object.entries(kinds) as [keyof typeof kinds, string][]) {
    const first = new Map<string, number>();
    loaded.forEach((plugin, index) => {
      for (const { id } of plugin.contributes[key]) {
        const earlier = first.get(id);
        if (earlier === undefined) first.set(id, index);
        else
          throw new UsageError(
            'PLUGIN_DUPLICATE_ID',
            `${config.file}: ${config.plugins[index]!.where}: ${kind} id "${id}" is already given by ${config.plugins[earlier]!.where}; give this entry another "id" option`,
          );
      }
    });
  }
}

/**
 * Sets one plugin up and instantiates what it contributes: its ContainerModule is loaded in a child of `root` (so
 * that the contributions are its own, and its classes may inject the core services bound in `root`); a setup()
 * manifest is made into such a module first. Throws whatever the plugin throws; loadPlugins() turns that into a
 * UsageError naming the plugin.
 */
export async function contributionsOf(
  manifest: PluginManifest,
  options: Record<string, unknown>,
  config: CertsmithConfig,
  root: Container,
  bus: Bus,
  where = `${config.file}: options`,
): Promise<Contributions> {
  const child = new Container({ parent: root });
  await child.loadAsync(moduleOf(manifest, options, { config, bus, where }));
  const [issuers, installers, dcv, notifiers, schedulers, statusSinks, fleet] = await Promise.all([
    child.getAllAsync<Issuer>(TOKENS.Issuer),
    child.getAllAsync<Installer>(TOKENS.Installer),
    child.getAllAsync<DcvMethod>(TOKENS.DcvMethod),
    child.getAllAsync<Notifier>(TOKENS.Notifier),
    child.getAllAsync<Scheduler>(TOKENS.Scheduler),
    child.getAllAsync<StatusSink>(TOKENS.StatusSink),
    child.getAllAsync<FleetLink>(TOKENS.FleetLink),
  ]);
  return { issuers, installers, dcv, notifiers, schedulers, statusSinks, fleet };
}

/** The plugin's ContainerModule: its own, or one that runs its setup() and binds what that contributes. */
function moduleOf(manifest: PluginManifest, options: Record<string, unknown>, run: { config: CertsmithConfig; bus: Bus; where: string }): ContainerModule {
  const { module, setup } = manifest;
  if (module) return typeof module === 'function' ? module(options, { where: run.where }) : module;
  return new ContainerModule(async ({ bind }) => {
    const contribute = (token: symbol) => (value: unknown) => void bind(token).toConstantValue(value);
    await setup!({
      options,
      where: run.where,
      config: run.config,
      bus: run.bus,
      contribute: {
        issuer: contribute(TOKENS.Issuer),
        installer: contribute(TOKENS.Installer),
        dcv: contribute(TOKENS.DcvMethod),
        notifier: contribute(TOKENS.Notifier),
        scheduler: contribute(TOKENS.Scheduler),
        statusSink: contribute(TOKENS.StatusSink),
        fleet: contribute(TOKENS.FleetLink),
      },
    });
  });
}

async function builtinManifest(spec: string, builtin: BuiltinPlugin, where: string): Promise<{ manifest: PluginManifest; url: string }> {
  let exports: Record<string, unknown>;
  try {
    exports = await builtin.load();
  } catch (error) {
    throw new UsageError('PLUGIN_FAILED', `${where}: plugin "${spec}" could not be loaded: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  return { manifest: checkedManifest(spec, exports, where), url: builtin.url() };
}

/** `where`: the config entry that names the plugin, for the messages. */
async function importManifest(spec: string, resolveFrom: string[], where: string): Promise<{ manifest: PluginManifest; url: string }> {
  let url: string | undefined;
  if (isAbsolute(spec)) url = pathToFileURL(spec).href;
  else {
    for (const base of resolveFrom) {
      try {
        url = pathToFileURL(createRequire(base).resolve(spec)).href;
        break;
      } catch {
        // try the next base
      }
    }
  }
  if (!url) throw new UsageError('PLUGIN_NOT_FOUND', `${where}: plugin "${spec}" not found (is the package installed, or the path right?)`);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && isAbsolute(spec)) throw new UsageError('PLUGIN_NOT_FOUND', `${where}: plugin "${spec}" not found (no such file)`);
    throw new UsageError('PLUGIN_FAILED', `${where}: plugin "${spec}" could not be loaded: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  return { manifest: checkedManifest(spec, exports, where), url };
}

/** The manifest a plugin module exports, once it is known to speak this core's plugin API. */
function checkedManifest(spec: string, exports: Record<string, unknown>, where: string): PluginManifest {
  const manifest = (exports.manifest ?? exports.default) as PluginManifest | undefined;
  if (!manifest || typeof manifest !== 'object') {
    throw new UsageError('PLUGIN_INVALID', `${where}: plugin "${spec}" exports no manifest (expected an export named "manifest" or a default export)`);
  }
  if (typeof manifest.name !== 'string' || manifest.name.length === 0) {
    throw new UsageError('PLUGIN_INVALID', `${where}: plugin "${spec}": its manifest has no name`);
  }
  if (manifest.apiVersion !== PLUGIN_API_VERSION) {
    throw new UsageError(
      'PLUGIN_API_VERSION',
      `${where}: plugin "${manifest.name}" speaks plugin API ${String(manifest.apiVersion)}, this certsmith speaks ${PLUGIN_API_VERSION}`,
    );
  }
  if (!manifest.module && typeof manifest.setup !== 'function') {
    throw new UsageError('PLUGIN_INVALID', `${where}: plugin "${manifest.name}": its manifest has neither "module" nor "setup"`);
  }
  return manifest;
}
