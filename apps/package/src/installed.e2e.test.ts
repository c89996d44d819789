// The package as an administrator gets it: `npm pack`, then `npm install -g` of the tarball into a temporary prefix
// with no network (the package has no dependencies to fetch), then the installed commands on a sandbox config.
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, run, startNats } from '@certsmith/testlab';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO = join(PACKAGE_DIR, '../..');
const EXAMPLE_PLUGIN = join(REPO, 'examples/event-log-plugin/index.mjs');

let dir: { path: string; cleanup: () => Promise<void> };
let bin: string;

/** npm and the installed commands, without the npm_* settings of the `npm test` that started vitest. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  // The bins start with `#!/usr/bin/env -S node ...`: the node running the tests.
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  return env;
}

async function npm(args: string[], cwd: string) {
  const result = await run('npm', [...args, '--cache', join(dir.path, 'npm-cache'), '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    // Nothing may come from a registry: an unreachable loopback one makes any attempt fail.
    env: { ...cleanEnv(), npm_config_registry: 'http://127.0.0.1:9/' },
    timeoutMs: 300_000,
  });
  expect(result.code, `npm ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result;
}

function certsmith(command: string, args: string[]) {
  return run(join(bin, command), args, { cwd: dir.path, env: cleanEnv(), timeoutMs: 120_000 });
}

/** config/sandbox.json with its paths in the test's directory. */
async function sandboxConfig(name: string, plugins: unknown[] = []): Promise<string> {
  const sandbox = JSON.parse(await readFile(join(REPO, 'config/sandbox.json'), 'utf8')) as Record<string, unknown> & { plugins: unknown[] };
  const file = join(dir.path, name);
  const config = {
    ...sandbox,
    $schema: join(bin, '../lib/node_modules/certsmith/dist/config.schema.json'),
    paths: { stateDir: './sandbox/state', sslDir: './sandbox/ssl', logDir: './sandbox/logs' },
    plugins: [{ module: '@certsmith/notify-email', options: { outboxDir: './sandbox/outbox' } }, ...plugins],
  };
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

beforeAll(async () => {
  dir = await labDir('package');
  const packed = await npm(['pack', '--json', '--pack-destination', dir.path], PACKAGE_DIR);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  await npm(['install', '--global', '--offline', '--prefix', join(dir.path, 'prefix'), join(dir.path, filename)], dir.path);
  bin = join(dir.path, 'prefix/bin');
}, 600_000);
afterAll(async () => {
  await dir?.cleanup();
});

describe('the installed package', () => {
  it('carries the program, the schema and share/, and nothing from the repository besides', async () => {
    const root = join(dir.path, 'prefix/lib/node_modules/certsmith');
    expect(await readdir(root)).not.toContain('node_modules');
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.dependencies).toBeUndefined();
    expect(JSON.parse(await readFile(join(root, 'dist/config.schema.json'), 'utf8'))).toMatchObject({ title: 'certsmith configuration' });
    expect((await stat(join(root, 'dist/share'))).isDirectory()).toBe(true);
    const version = await certsmith('certsmith', ['--version']);
    expect(version.stdout).toBe(`certsmith ${manifest.version as string}\n`);
    // The launcher answers --version and --help alone: it imports node's own modules and nothing else at its start.
    const launcher = await readFile(join(root, 'dist/main.js'), 'utf8');
    const staticImports = [...launcher.matchAll(/^import\s[^;]*?['"]([^'"]+)['"];?$/gm)].map((m) => m[1]);
    expect(staticImports.filter((spec) => !spec!.startsWith('node:'))).toEqual([]);
  });

  it('checks the sandbox: installs the certificates, then finds them healthy', async () => {
    const config = await sandboxConfig('sandbox.json');
    const first = await certsmith('certsmith', ['check', '--config', config]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    const key = await stat(join(dir.path, 'sandbox/ssl/dovecot/dovecot.key'));
    expect(key.mode & 0o777).toBe(0o600);

    const second = await certsmith('certsmith', ['check', '--config', config]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/hostname \(host\.sandbox\.test\): healthy/);
    expect(second.stdout).not.toContain('installed a self-signed certificate');
  });

  it('writes a starting config with certsmith init, pointing "$schema" at the schema it ships', async () => {
    const file = join(dir.path, 'etc/config.json');
    const result = await certsmith('certsmith', ['init', '--profile', 'full', '--config', file]);
    expect(result.code).toBe(0);
    const written = JSON.parse(await readFile(file, 'utf8')) as { $schema: string; profile: string };
    expect(written.profile).toBe('full');
    expect(written.$schema).toBe(join(dir.path, 'prefix/lib/node_modules/certsmith/dist/config.schema.json'));
    expect((await stat(written.$schema)).isFile()).toBe(true);
  });

  it('is installed as checkallsslcerts too', async () => {
    const help = await certsmith('checkallsslcerts', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: certsmith <command> [options]');
  });

  it('loads a third-party plugin by path, with its options checked against its schema', async () => {
    const events = join(dir.path, 'events.jsonl');
    const config = await sandboxConfig('with-plugin.json', [{ module: EXAMPLE_PLUGIN, options: { file: events } }]);
    const result = await certsmith('certsmith', ['check', '--config', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await readFile(events, 'utf8')).toContain('"type":"inspect"');

    const bad = await sandboxConfig('bad-options.json', [{ module: EXAMPLE_PLUGIN, options: {} }]);
    const refused = await certsmith('certsmith', ['check', '--config', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`certsmith: PLUGIN_OPTIONS_INVALID: ${bad}: $.plugins[1].options: missing required field "file"\n`);
  });

  it('refuses a plugin built for another plugin API with exit 2', async () => {
    const plugin = join(dir.path, 'old-plugin.mjs');
    await writeFile(plugin, 'export const manifest = { name: "old-plugin", apiVersion: 0, setup() {} };\n');
    const config = await sandboxConfig('old-plugin.json', [plugin]);
    const result = await certsmith('certsmith', ['check', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('plugin "old-plugin"');
    expect(result.stderr).toContain('speaks plugin API 0, this certsmith speaks 1');
  });

  it('reaches a fleet on NATS and writes the metrics file with the plugins it bundles (their clients loaded on first use)', async () => {
    const nats = await startNats({ jetstream: true });
    try {
      const metrics = join(dir.path, 'certsmith.prom');
      const config = await sandboxConfig('fleet.json', [
        { module: '@certsmith/fleet-nats', options: { servers: [nats.url] } },
        { module: '@certsmith/metrics-prometheus', options: { file: metrics } },
      ]);
      const result = await certsmith('certsmith', ['check', '--config', config]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain('Warning (nats)');
      expect(result.stdout).toMatch(/Status \(nats\): \d+ messages sent\n/);
      expect(await readFile(metrics, 'utf8')).toContain('certsmith_last_run_exit_code 0');
      const fleet = await certsmith('certsmith', ['fleet', 'status', '--config', config]);
      expect(fleet.stdout).toMatch(/^1 hosts, \d+ certificates: 0 expired/);

      // The NATS clients were compiled once, and their code cache kept beside the package's code for the next run.
      const cacheDir = join(bin, '../lib/node_modules/certsmith/dist/cache');
      const [cache, ...others] = (await readdir(cacheDir)).filter((f) => f.startsWith('nats.cjs.'));
      expect(others).toEqual([]);
      const compiled = await stat(join(cacheDir, cache!));
      // The next run that reports (its last report forgotten) loads them from that cache, and leaves it as it was.
      await rm(join(dir.path, 'sandbox/state/fleet-report.json'));
      const again = await certsmith('certsmith', ['check', '--config', config]);
      expect(again.stdout).toMatch(/Status \(nats\): \d+ messages sent\n/);
      expect((await stat(join(cacheDir, cache!))).mtimeMs).toBe(compiled.mtimeMs);
      // A cache damaged on disk is compiled past and made again: the run still reports.
      await writeFile(join(cacheDir, cache!), 'damaged');
      await rm(join(dir.path, 'sandbox/state/fleet-report.json'));
      const damaged = await certsmith('certsmith', ['check', '--config', config]);
      expect(damaged.stderr).toBe('');
      expect(damaged.stdout).toMatch(/Status \(nats\): \d+ messages sent\n/);
      expect((await readFile(join(cacheDir, cache!))).length).toBeGreaterThan(100_000);
    } finally {
      await nats.stop();
    }
  });
});
