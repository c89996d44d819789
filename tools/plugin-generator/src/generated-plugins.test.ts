// The generated plugins, one of each kind, in one temp workspace that borrows this one's node_modules, libraries and
// settings: each is built, type-checked, linted and tested by its own scripts, as a developer would right after
// generating it, and then loaded by the built CLI from a config.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGenerator } from './command-line.js';
import { PLUGIN_KINDS } from './plugin-name.js';

const WORKSPACE = resolve(import.meta.dirname, '../../..');
const NAME = 'mail-relay';
let root: string;

// The inner vitest must not take itself for a worker of this one.
const inherited = Object.entries(process.env).filter(([key]) => !/^(VITEST|TEST$|NODE_OPTIONS$|FORCE_COLOR$)/.test(key));
const env = { ...Object.fromEntries(inherited), NO_COLOR: '1' };

async function run(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await promisify(execFile)(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 })) };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'generated-plugins-'));
  await mkdir(join(root, 'plugins'));
  for (const shared of ['node_modules', 'libs', 'tsconfig.base.json', '.prettierrc.json', '.prettierignore'])
    await symlink(join(WORKSPACE, shared), join(root, shared));
  // Copied: ESLint applies a config's file patterns from where it finds the config.
  await copyFile(join(WORKSPACE, 'eslint.config.mjs'), join(root, 'eslint.config.mjs'));
  for (const kind of PLUGIN_KINDS) {
    const errors: string[] = [];
    expect(await runGenerator(['--kind', kind, '--name', NAME, '--root', root], root, { out: () => {}, err: (line) => errors.push(line) })).toBe(0);
    expect(errors).toEqual([]);
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generated plugins', () => {
  it.each(PLUGIN_KINDS)('%s: builds, type-checks, lints and passes its own tests as generated', async (kind) => {
    const folder = join(root, 'plugins', `${kind}-${NAME}`);
    for (const script of ['build', 'typecheck', 'lint']) expect(await run('npm', ['run', '-s', script], folder)).toMatchObject({ code: 0 });
    const test = await run('npm', ['run', '-s', 'test'], folder);
    expect(test.code, test.stdout + test.stderr).toBe(0);
    // Tests that ran, every one of them passing: not a suite that found nothing.
    const [, passed, total] = /Tests\s+(\d+) passed \((\d+)\)/.exec(test.stdout) ?? [];
    expect(Number(passed)).toBeGreaterThanOrEqual(2);
    expect(passed).toBe(total);
  });

  it('are in the workspace style that npm test checks', async () => {
    expect(await run(join(root, 'node_modules', '.bin', 'prettier'), ['--check', 'plugins'], root)).toMatchObject({ code: 0 });
  });

  it('are loaded by the built CLI from a config, their options checked against their schemas', async () => {
    const module = (kind: string) => join(root, 'plugins', `${kind}-${NAME}`, 'dist', 'index.js');
    const config = (webroot: string) => ({
      hostname: 'host.example.test',
      paths: { stateDir: join(root, 'state'), sslDir: join(root, 'ssl') },
      plugins: [
        { module: module('dcv'), options: { webroot } },
        { module: module('installer'), options: { reload: ['true'] } },
        { module: module('issuer'), options: { validityDays: 30 } },
        { module: module('notify'), options: { file: join(root, 'runs.log') } },
      ],
    });
    const cli = join(WORKSPACE, 'apps', 'cli', 'dist', 'main.js');
    await writeFile(join(root, 'good.json'), JSON.stringify(config(join(root, 'www'))));
    const listed = await run('node', [cli, 'plugins', '--json', '--config', join(root, 'good.json')], root);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { name: string; contributes: string[] }[];
    expect(rows.filter((row) => row.name.endsWith(NAME)).map(({ name, contributes }) => [name, contributes])).toEqual([
      [`@certsmith/dcv-${NAME}`, [`dcv:${NAME}`]],
      [`@certsmith/installer-${NAME}`, [`installer:${NAME}`]],
      [`@certsmith/issuer-${NAME}`, [`issuer:${NAME}`]],
      [`@certsmith/notify-${NAME}`, [`notifier:${NAME}`]],
    ]);
    await writeFile(join(root, 'bad.json'), JSON.stringify(config('www')));
    expect(await run('node', [cli, 'plugins', '--config', join(root, 'bad.json')], root)).toEqual({
      code: 2,
      stdout: '',
      stderr: `certsmith: PLUGIN_OPTIONS_INVALID: ${join(root, 'bad.json')}: $.plugins[0].options.webroot: must match pattern "^/"\n`,
    });
  });
});
