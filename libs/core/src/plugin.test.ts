import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Container } from 'inversify';
import { describe, expect, it } from 'vitest';
import { completeConfig } from './config/config.js';
import { UsageError } from './errors.js';
import { createBus } from './events.js';
import { loadPlugins, type BuiltinPlugin } from './plugin.js';
import { TOKENS } from './tokens.js';

async function pluginFile(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plugin-'));
  const file = join(dir, 'plugin.mjs');
  await writeFile(file, source);
  return file;
}

async function load(module: string, options: Record<string, unknown> = {}) {
  const config = completeConfig({ hostname: 'h.example.test', plugins: [{ module, options }] }, '/nonexistent/config.json');
  config.plugins = config.plugins.filter((p) => p.module === module); // only the plugin under test
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  return loadPlugins(config, root, createBus(), [import.meta.filename]);
}

const inversify = import.meta.resolve('inversify');

describe('loadPlugins', () => {
  it('instantiates what a ContainerModule binds, injecting the core services', async () => {
    const file = await pluginFile(`
      import { ContainerModule } from '${inversify}';
      const Installer = Symbol.for('certsmith.Installer');
      const Config = Symbol.for('certsmith.Config');
      export const manifest = { name: 'mod', version: '2.0.0', apiVersion: 1,
        module: (options) => new ContainerModule(({ bind }) => {
          bind(Installer).toDynamicValue((ctx) => ({ service: options.service + '@' + ctx.get(Config).hostname }));
        }) };`);
    const [plugin] = await load(file, { service: 'dovecot' });
    expect(plugin!.name).toBe('mod');
    expect(plugin!.version).toBe('2.0.0');
    expect(plugin!.contributes.installers.map((i) => i.service)).toEqual(['dovecot@h.example.test']);
    expect(plugin!.contributes.issuers).toEqual([]);
  });

  it('waits for what a module binds asynchronously, and tells its factory where its options are', async () => {
    const file = await pluginFile(`
      import { ContainerModule } from '${inversify}';
      export default { name: 'slow', apiVersion: 1,
        module: (options, { where }) => new ContainerModule(({ bind }) => {
          bind(Symbol.for('certsmith.Issuer')).toDynamicValue(async () => {
            await new Promise((resolve) => setImmediate(resolve));
            return { id: options.id, where };
          });
        }) };`);
    const [plugin] = await load(file, { id: 'later' });
    expect(plugin!.contributes.issuers).toEqual([{ id: 'later', where: '/nonexistent/config.json: $.plugins[0].options' }]);
  });

  it("refuses a plugin whose asynchronous binding fails, naming it, and passes its UsageError on at its options' place", async () => {
    const core = import.meta.resolve('./errors.ts');
    const file = await pluginFile(`
      import { ContainerModule } from '${inversify}';
      import { UsageError } from '${core}';
      export default { name: 'async-fail', apiVersion: 1,
        module: (options, { where }) => new ContainerModule(({ bind }) => {
          bind(Symbol.for('certsmith.Issuer')).toDynamicValue(async () => {
            if (options.picky) throw new UsageError('PICKY_OPTION', where + '.picky: must be false');
            throw new Error('directory unreachable');
          });
        }) };`);
    await expect(load(file)).rejects.toMatchObject({
      code: 'PLUGIN_FAILED',
      message: '/nonexistent/config.json: $.plugins[0]: plugin "async-fail" failed to set up: directory unreachable',
    });
    await expect(load(file, { picky: true })).rejects.toMatchObject({
      code: 'PICKY_OPTION',
      message: '/nonexistent/config.json: $.plugins[0].options.picky: must be false',
    });
  });

  it('refuses a plugin whose constructor throws, naming it', async () => {
    const file = await pluginFile(`
      import { ContainerModule } from '${inversify}';
      class Exploding { constructor() { throw new Error('no licence key'); } }
      export default { name: 'exploding', apiVersion: 1,
        module: new ContainerModule(({ bind }) => { bind(Symbol.for('certsmith.Issuer')).toDynamicValue(() => new Exploding()); }) };`);
    const error = await load(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('PLUGIN_FAILED');
    expect((error as Error).message).toBe(`/nonexistent/config.json: $.plugins[0]: plugin "exploding" failed to set up: no licence key`);
  });

  it('refuses a module that cannot even be imported', async () => {
    const file = await pluginFile('export const manifest = {;');
    await expect(load(file)).rejects.toThrow(/^\/nonexistent\/config\.json: \$\.plugins\[0\]: plugin ".*plugin\.mjs" could not be loaded: /);
  });

  it("passes a plugin's own UsageError on once, at the plugin's place in the config", async () => {
    const core = import.meta.resolve('./errors.ts');
    const file = await pluginFile(`
      import { UsageError } from '${core}';
      export default { name: 'picky', apiVersion: 1,
        setup: ({ where }) => { throw new UsageError('PICKY_OPTION', where + '.colour: must be blue'); } };`);
    const picky = await load(file).catch((e: unknown) => e);
    expect(picky).toMatchObject({ code: 'PICKY_OPTION', message: '/nonexistent/config.json: $.plugins[0].options.colour: must be blue' });
    const vague = await pluginFile(`
      import { UsageError } from '${core}';
      export default { name: 'vague', apiVersion: 1, setup: () => { throw new UsageError('VAGUE', 'colour must be blue'); } };`);
    await expect(load(vague)).rejects.toMatchObject({ code: 'VAGUE', message: '/nonexistent/config.json: $.plugins[0]: colour must be blue' });
  });

  it('refuses two entries giving one issuer id, naming both', async () => {
    const file = await pluginFile(`
      export default { name: 'twin', apiVersion: 1, setup: ({ options, contribute }) => contribute.issuer({ id: options.id }) };`);
    const config = completeConfig(
      {
        hostname: 'h.example.test',
        plugins: [
          { module: file, options: { id: 'a' } },
          { module: file, options: { id: 'b' } },
          { module: file, options: { id: 'a' } },
        ],
      },
      '/nonexistent/config.json',
    );
    config.plugins = config.plugins.filter((p) => p.module === file);
    const root = new Container();
    await expect(loadPlugins(config, root, createBus(), [import.meta.filename])).rejects.toMatchObject({
      code: 'PLUGIN_DUPLICATE_ID',
      message: '/nonexistent/config.json: $.plugins[2]: issuer id "a" is already given by $.plugins[0]; give this entry another "id" option',
    });
    config.plugins = config.plugins.slice(0, 2);
    const loaded = await loadPlugins(config, root, createBus(), [import.meta.filename]);
    expect(loaded.map((p) => p.contributes.issuers.map((i) => i.id))).toEqual([['a'], ['b']]);
  });

  it('refuses a missing file and an unknown package', async () => {
    await expect(load('/nonexistent/plugin.mjs')).rejects.toThrow('plugin "/nonexistent/plugin.mjs" not found (no such file)');
    await expect(load('certsmith-plugin-that-does-not-exist')).rejects.toThrow('plugin "certsmith-plugin-that-does-not-exist" not found');
  });
});

describe('loadPlugins with built-in plugins', () => {
  async function loadBuiltin(module: string, builtins: Record<string, BuiltinPlugin>, options: Record<string, unknown> = {}) {
    const config = completeConfig({ hostname: 'h.example.test', plugins: [{ module, options }] }, '/nonexistent/config.json');
    config.plugins = config.plugins.filter((p) => p.module === module);
    const root = new Container();
    root.bind(TOKENS.Config).toConstantValue(config);
    return loadPlugins(config, root, createBus(), [import.meta.filename], builtins);
  }

  it('takes a name the app compiled in from its map, without resolving a package, and checks its options', async () => {
    let setUp: unknown;
    const builtins: Record<string, BuiltinPlugin> = {
      '@example/not-installed': {
        load: async () => ({
          manifest: {
            name: '@example/not-installed',
            apiVersion: 1,
            optionsSchema: { type: 'object', required: ['level'] },
            setup: ({ options }: { options: unknown }) => void (setUp = options),
          },
        }),
        url: () => 'file:///nonexistent/builtin/index.js',
      },
    };
    const [plugin] = await loadBuiltin('@example/not-installed', builtins, { level: 3 });
    expect(plugin!.name).toBe('@example/not-installed');
    expect(setUp).toEqual({ level: 3 });
    await expect(loadBuiltin('@example/not-installed', builtins)).rejects.toThrow(/\$\.plugins\[0\]\.options: missing required field "level"/);
  });

  it('holds a built-in plugin to the same plugin API version', async () => {
    const builtins: Record<string, BuiltinPlugin> = {
      '@example/old': { load: async () => ({ default: { name: 'old', apiVersion: 0, setup() {} } }), url: () => 'file:///nonexistent/old/index.js' },
    };
    const error = await loadBuiltin('@example/old', builtins).catch((e: unknown) => e);
    expect((error as UsageError).code).toBe('PLUGIN_API_VERSION');
  });

  it('still imports any other name or path at run time', async () => {
    const file = await pluginFile('export const manifest = { name: "by-path", apiVersion: 1, setup() {} };');
    const [plugin] = await loadBuiltin(file, { '@example/other': { load: async () => ({}), url: () => 'file:///x' } });
    expect(plugin!.name).toBe('by-path');
  });
});
