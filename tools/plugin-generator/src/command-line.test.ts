import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGenerator } from './command-line.js';

const WORKSPACE = resolve(import.meta.dirname, '../../..');
let root: string;

/** Every path under the temp workspace, to show that a refusal wrote nothing. */
async function tree(): Promise<string[]> {
  return (await readdir(root, { recursive: true })).sort();
}

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runGenerator(args, root, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'plugin-generator-'));
  await mkdir(join(root, 'plugins', 'issuer-taken'), { recursive: true });
  await writeFile(join(root, 'plugins', 'issuer-taken', 'keep.txt'), 'mine');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('runGenerator', () => {
  it.each([
    [['--kind', 'scheduler', '--name', 'cron'], 'new-plugin: unknown kind "scheduler": one of dcv, installer, issuer, notify'],
    [['--kind', 'issuer', '--name', 'Internal_CA'], /^new-plugin: "Internal_CA" is not a plugin name/],
    [['--kind', 'issuer', '--name', '../escape'], /^new-plugin: "..\/escape" is not a plugin name/],
    [['--kind', 'issuer', '--name', 'taken'], 'new-plugin: plugins/issuer-taken already exists: choose another name, or remove it first'],
    [['--kind', 'issuer'], /^new-plugin: --kind and --name are both needed; usage: /],
    [['--kind', 'issuer', '--name'], /^new-plugin: --name needs a value/],
    [['--kind', 'dcv', '--name', 'a', '--force'], /^new-plugin: unknown argument "--force"/],
    [['--kind', 'dcv', '--name', 'a', '--root', '/nonexistent'], 'new-plugin: /nonexistent/plugins does not exist: is /nonexistent a certsmith workspace?'],
  ])('refuses %j in one line, exit 2, writing nothing', async (args, message) => {
    const before = await tree();
    const { code, out, err } = await run(args);
    expect({ code, out, lines: err.length }).toEqual({ code: 2, out: [], lines: 1 });
    if (typeof message === 'string') expect(err[0]).toBe(message);
    else expect(err[0]).toMatch(message);
    expect(await tree()).toEqual(before);
  });

  it('writes the package, names each file, and says what to run next', async () => {
    const { code, out, err } = await run(['--kind=notify', '--name=slack']);
    expect({ code, err }).toEqual({ code: 0, err: [] });
    const files = (await readdir(join(root, 'plugins', 'notify-slack'), { recursive: true })).sort();
    expect(files).toEqual([
      'package.json',
      'project.json',
      'src',
      'src/index.ts',
      'src/slack-notifier.test.ts',
      'src/slack-notifier.ts',
      'tsconfig.json',
      'tsconfig.lib.json',
      'vitest.config.ts',
    ]);
    expect(out.filter((line) => line.startsWith('created '))).toHaveLength(8);
    expect(out.at(-1)).toMatch(/npx nx run-many -t build lint typecheck test -p @certsmith\/notify-slack$/);
  });
});

describe('npm run new-plugin', () => {
  it('passes the arguments through and keeps the exit code and the one line', async () => {
    const result = await promisify(execFile)('npm', ['run', '-s', 'new-plugin', '--', '--kind', 'nope', '--name', 'x'], { cwd: WORKSPACE }).catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: 'new-plugin: unknown kind "nope": one of dcv, installer, issuer, notify\n' });
  });
});
