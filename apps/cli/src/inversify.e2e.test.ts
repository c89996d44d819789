// inversify as one file (docs/performance.md): the built CLI loads the esbuild bundle that @certsmith/core's build makes of it,
// not the ~250 modules of node_modules/inversify and @inversifyjs/*; and a third-party plugin that brings its own
// inversify still loads, its ContainerModule going into the core's (bundled) Container.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli } from '@certsmith/testlab';

const SANDBOX_CONFIG = fileURLToPath(new URL('../../../config/sandbox.json', import.meta.url));
// The real package, where @certsmith/core's sources (and its build) find it: lib/index.js -> the package's directory.
const INVERSIFY_PACKAGE = dirname(dirname(createRequire(fileURLToPath(new URL('../../../libs/core/package.json', import.meta.url))).resolve('inversify')));
const FROM_NODE_MODULES = /\/node_modules\/(inversify|@inversifyjs)\//;
const BUNDLE = /\/libs\/core\/dist\/inversify\.js$/;

let dir: { path: string; cleanup: () => Promise<void> };
let preload: string;
beforeAll(async () => {
  dir = await labDir('inversify');
  // Records the URL of every module the ESM loader loads (inversify's packages are ESM, so all of them go through
  // it), one line each, in MODULES_FILE. The hooks run on the loader's own thread: they append to the file as they go.
  const hooks = join(dir.path, 'record-modules-hooks.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, nextLoad) { appendFileSync(file, url + '\\n'); return nextLoad(url, context); }
`,
  );
  preload = join(dir.path, 'record-modules.mjs');
  await writeFile(
    preload,
    `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { file: process.env.MODULES_FILE } });
`,
  );
});
afterAll(async () => {
  await dir.cleanup();
});

async function runRecorded(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[] }> {
  const modulesFile = join(dir.path, `modules-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(modulesFile, '');
  const result = await runCli(args, { env: { NODE_OPTIONS: `--import ${preload}`, MODULES_FILE: modulesFile } });
  return { ...result, modules: (await readFile(modulesFile, 'utf8')).split('\n').filter(Boolean) };
}

/**
 * A third-party plugin as its author would ship it: plain JavaScript beside its own node_modules/inversify (here a
 * link to the real package, which the built core no longer loads). It binds a Notifier through its own
 * ContainerModule, built from the core's Config (a core service, bound in the core's container), and writes what it
 * sees to `file`. The tokens are registered symbols, so it needs no import of @certsmith/core.
 */
async function writeOwnInversifyPlugin(): Promise<string> {
  const pluginDir = join(dir.path, 'own-inversify-plugin');
  await mkdir(join(pluginDir, 'node_modules'), { recursive: true });
  await symlink(INVERSIFY_PACKAGE, join(pluginDir, 'node_modules', 'inversify'), 'dir');
  const entry = join(pluginDir, 'index.mjs');
  await writeFile(
    entry,
    `import { appendFileSync } from 'node:fs';
import { ContainerModule } from 'inversify';

const NOTIFIER = Symbol.for('certsmith.Notifier');
const CONFIG = Symbol.for('certsmith.Config');
const write = (file, line) => appendFileSync(file, JSON.stringify(line) + '\\n');

export const manifest = {
  name: 'own-inversify',
  version: '1.0.0',
  apiVersion: 1,
  optionsSchema: { type: 'object', required: ['file'], properties: { file: { type: 'string' } } },
  module: (options) => new ContainerModule(({ bind }) => {
    bind(NOTIFIER).toDynamicValue((context) => {
      const config = context.get(CONFIG);
      return {
        id: 'own-inversify',
        listen(bus) { bus.on('inspect', (event) => write(options.file, { type: 'inspect', service: event.service })); },
        async deliver(report) {
          write(options.file, { type: 'deliver', hostname: config.hostname, exitCode: report.exitCode });
          return { delivered: true, detail: 'written' };
        },
      };
    });
  }),
};
`,
  );
  return entry;
}

describe('inversify in a built run', () => {
  it('a check of the sandbox config loads inversify as the one bundled file of @certsmith/core, nothing of node_modules/inversify or @inversifyjs', async () => {
    // The repository's sandbox config, copied so that its relative paths (../sandbox/...) land in the temp dir.
    const config = join(dir.path, 'config', 'sandbox.json');
    await mkdir(dirname(config));
    await writeFile(config, await readFile(SANDBOX_CONFIG, 'utf8'));
    const result = await runRecorded(['check', '--config', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    expect(
      result.modules.filter((url) => BUNDLE.test(url)),
      'the recording sees the bundle',
    ).toHaveLength(1);
    expect(result.modules.filter((url) => FROM_NODE_MODULES.test(url))).toEqual([]);
  });

  it("a third-party plugin with its own inversify still loads: its ContainerModule goes into the core's Container and gets the core's services", async () => {
    const entry = await writeOwnInversifyPlugin();
    const seen = join(dir.path, 'own-inversify.jsonl');
    const config = join(dir.path, 'own-inversify.json');
    await writeFile(
      config,
      JSON.stringify(
        {
          profile: 'full',
          hostname: 'host.sandbox.test',
          paths: { stateDir: './own-state', sslDir: './own-ssl' },
          inspection: { live: false },
          plugins: [{ module: entry, options: { file: seen } }],
        },
        null,
        2,
      ),
    );

    const listed = await runRecorded(['plugins', '--config', config]);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^own-inversify 1\.0\.0 {2}notifier:own-inversify/m);
    // Two copies in one process: the plugin's, from node_modules, and the core's bundle.
    expect(
      listed.modules.some((url) => /\/node_modules\/inversify\/lib\/index\.js$/.test(url)),
      'the plugin loads its own inversify',
    ).toBe(true);
    expect(listed.modules.filter((url) => BUNDLE.test(url))).toHaveLength(1);

    const checked = await runCli(['check', '--config', config]);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain('Notification (own-inversify): written');
    const lines = (await readFile(seen, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      lines
        .filter((l) => l.type === 'inspect')
        .map((l) => l.service)
        .sort(),
    ).toEqual(['cpanel', 'dovecot', 'exim', 'ftp']);
    expect(lines.filter((l) => l.type === 'deliver')).toEqual([{ type: 'deliver', hostname: 'host.sandbox.test', exitCode: 0 }]);
  });
});
