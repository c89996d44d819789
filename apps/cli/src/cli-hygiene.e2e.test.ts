// Bad input through the built CLI: a usage error is one line in our words plus where to read the usage, and every
// error reads `CODE: where: what` with the file named once; exit 2, nothing written.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli } from '@certsmith/testlab';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await labDir('cli-hygiene');
});
afterAll(async () => {
  await dir.cleanup();
});

async function writeConfig(name: string, content: string | Record<string, unknown>): Promise<string> {
  const file = join(dir.path, name);
  const base = { profile: 'full', hostname: 'host.sandbox.test', paths: { stateDir: `./${name}-state`, sslDir: `./${name}-ssl` }, inspection: { live: false } };
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify({ ...base, ...content }, null, 2));
  return file;
}

/** Runs the CLI on bad input and checks what every such run must do: exit 2, nothing on stdout, no stack, nothing written. */
async function refused(args: string[]): Promise<string[]> {
  const before = await readdir(dir.path);
  const result = await runCli(args);
  expect(result.code, result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(await readdir(dir.path)).toEqual(before);
  return result.stderr.split('\n').filter(Boolean);
}

describe('usage errors: one line in our words, then where to read the usage', () => {
  it.each([
    [['check', '--frobnicate'], 'certsmith: USAGE: --frobnicate: unknown option (see certsmith --help)'],
    [['check', '-x'], 'certsmith: USAGE: -x: unknown option (see certsmith --help)'],
    [['check', '--config'], 'certsmith: USAGE: --config: needs a value (see certsmith --help)'],
    [['check', '--config', '--json'], 'certsmith: USAGE: --config: needs a value (see certsmith --help)'],
    [['check', '--json=yes'], 'certsmith: USAGE: --json: takes no value (see certsmith --help)'],
    [['frobnicate'], 'certsmith: USAGE: frobnicate: unknown command (see certsmith --help)'],
    [[], 'certsmith: USAGE: no command given (see certsmith --help)'],
    [['check', '--allow-retry', '--no-retry'], 'certsmith: USAGE: --allow-retry, --no-retry: exclude each other (see certsmith --help)'],
    [['try-later', '--frobnicate'], 'certsmith try-later: USAGE: --frobnicate: unknown option (see certsmith try-later --help)'],
    [['try-later', '--delay'], 'certsmith try-later: USAGE: --delay: needs a value (see certsmith try-later --help)'],
    [['try-later', '--check', 'true'], 'certsmith try-later: USAGE: --action: is required (see certsmith try-later --help)'],
  ])('certsmith %j', async (args, line) => {
    const lines = await refused(args);
    expect(lines).toEqual([line]);
    // Not node's parser's message, not the whole usage text.
    expect(lines[0]).not.toMatch(/positional argument|Did you forget|Usage:/);
  });
});

describe('configuration errors: CODE: where: what, the file once', () => {
  it('invalid JSON is placed by line and column', async () => {
    const file = await writeConfig('broken.json', '{\n  "profile": "full",\n  "hostname": "host.sandbox.test"\n  "inspection": { "live": false }\n}\n');
    expect(await refused(['check', '--config', file])).toEqual([`certsmith: CONFIG_INVALID_JSON: ${file}:4:3: not valid JSON: a comma was expected`]);
    const cut = await writeConfig('cut.json', '{ "profile": "full",');
    expect(await refused(['dcv', '--config', cut])).toEqual([
      `certsmith: CONFIG_INVALID_JSON: ${cut}:1:21: not valid JSON: a property name in double quotes was expected`,
    ]);
    const token = await writeConfig('token.json', '{ "profile": full }');
    expect(await refused(['plugins', '--config', token])).toEqual([`certsmith: CONFIG_INVALID_JSON: ${token}:1:14: not valid JSON: unexpected character`]);
  });

  it('every schema error of a config at once, one line each, each naming the field', async () => {
    const file = await writeConfig('many.json', { profile: 'fulll', hostname: 5, concurrency: 'four', inspection: { live: 'no' }, colour: 'blue' });
    const lines = await refused(['check', '--config', file]);
    expect([...lines].sort()).toEqual(
      [
        `certsmith: CONFIG_INVALID: ${file}: $: unknown field "colour"`,
        `certsmith: CONFIG_INVALID: ${file}: $.profile: must be one of "full", "dnsonly"`,
        `certsmith: CONFIG_INVALID: ${file}: $.hostname: must be string`,
        `certsmith: CONFIG_INVALID: ${file}: $.concurrency: must be integer`,
        `certsmith: CONFIG_INVALID: ${file}: $.inspection.live: must be boolean`,
      ].sort(),
    );
  });

  it("every error in a plugin's options at once, at the plugin's place in the config", async () => {
    const file = await writeConfig('options.json', {
      plugins: ['@certsmith/notify-email', { module: '@certsmith/dcv-http', options: { docrot: './www', docroot: 7 } }],
    });
    const lines = await refused(['plugins', '--config', file]);
    expect([...lines].sort()).toEqual(
      [
        `certsmith: PLUGIN_OPTIONS_INVALID: ${file}: $.plugins[1].options: unknown field "docrot"`,
        `certsmith: PLUGIN_OPTIONS_INVALID: ${file}: $.plugins[1].options.docroot: must be string`,
      ].sort(),
    );
  });

  it('a plugin that is not there, a directory that is a file: the file and the field once', async () => {
    const missing = await writeConfig('missing-plugin.json', { plugins: ['./nowhere.mjs'] });
    expect(await refused(['check', '--config', missing])).toEqual([
      `certsmith: PLUGIN_NOT_FOUND: ${missing}: $.plugins[0]: plugin "${join(dir.path, 'nowhere.mjs')}" not found (no such file)`,
    ]);
    await writeFile(join(dir.path, 'a-file'), 'not a directory');
    const notDir = await writeConfig('not-dir.json', { paths: { stateDir: './a-file', sslDir: './ssl' } });
    expect(await refused(['check', '--config', notDir])).toEqual([
      `certsmith: DIR_INVALID: ${notDir}: $.paths.stateDir: ${join(dir.path, 'a-file')} is not a directory`,
    ]);
  });
});

describe('a key file that holds no key', () => {
  it('is INVALID_KEY, named once, and replaced', async () => {
    const file = await writeConfig('bad-key.json', {});
    const first = await runCli(['check', '--config', file]);
    expect(first.code, first.stderr).toBe(0);
    const key = join(dir.path, 'bad-key.json-ssl', 'exim', 'exim.key');
    await writeFile(key, 'this is not a key\n');
    const second = await runCli(['check', '--dry-run', '--config', file]);
    expect(second.stderr).toBe('');
    expect(second.stdout).toContain(`Defect: INVALID_KEY: ${key}: no private key can be read (neither PEM nor DER)`);
    expect(second.stdout).not.toContain('MISSING_KEY');
  });
});
