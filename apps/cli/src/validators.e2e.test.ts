// The config and the built-in plugins' options are validated by the standalone validators their builds generated
// (ajv and its schema compilation cost a run 8-10 MB of RSS: docs/performance.md), with the same verdicts and wording as before.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli } from '@certsmith/testlab';

let dir: { path: string; cleanup: () => Promise<void> };
let preload: string;
beforeAll(async () => {
  dir = await labDir('validators');
  // Records, as the CLI exits, every CommonJS module of ajv it loaded (ajv is CommonJS: all of it goes through this cache).
  preload = join(dir.path, 'ajv-modules.mjs');
  await writeFile(
    preload,
    `import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => writeFileSync(process.env.AJV_MODULES_FILE, JSON.stringify(Object.keys(cache).filter((f) => /\\/node_modules\\/ajv(-formats)?\\//.test(f)))));
`,
  );
});
afterAll(async () => {
  await dir.cleanup();
});

async function writeConfig(name: string, extra: Record<string, unknown>): Promise<string> {
  const file = join(dir.path, name);
  await writeFile(
    file,
    JSON.stringify(
      {
        profile: 'full',
        hostname: 'host.sandbox.test',
        paths: { stateDir: `./${name}-state`, sslDir: `./${name}-ssl` },
        inspection: { live: false },
        ...extra,
      },
      null,
      2,
    ),
  );
  return file;
}

async function checkWithAjvRecorded(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ajvModules: string[] }> {
  const modulesFile = join(dir.path, `ajv-${Math.random().toString(36).slice(2)}.json`);
  const result = await runCli(args, { env: { NODE_OPTIONS: `--import ${preload}`, AJV_MODULES_FILE: modulesFile } });
  return { ...result, ajvModules: JSON.parse(await readFile(modulesFile, 'utf8')) as string[] };
}

const compilerLoaded = (modules: string[]) => modules.filter((f) => !/\/ajv\/dist\/runtime\/|\/ajv-formats\/dist\/formats\.js$/.test(f));

describe('validation through the generated validators', () => {
  it('runs a check with plugin options without loading ajv itself (only its runtime helpers), in the log and in --json', async () => {
    const config = await writeConfig('good', {
      plugins: [
        { module: '@certsmith/issuer-selfsigned', options: { validityDays: 90 } },
        { module: '@certsmith/dcv-http', options: { docroot: './www' } },
      ],
    });
    const human = await checkWithAjvRecorded(['check', '--config', config]);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    expect(human.ajvModules.length, "the generated validators need ajv's runtime helpers").toBeGreaterThan(0);
    expect(compilerLoaded(human.ajvModules)).toEqual([]);

    const json = await checkWithAjvRecorded(['check', '--json', '--config', config]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { exitCode: number; targets: { target: string; services: { service: string }[] }[] };
    expect(report.exitCode).toBe(0);
    expect(report.targets[0]!.target).toBe('hostname');
    expect(report.targets[0]!.services.map((s) => s.service)).toEqual(['cpanel', 'dovecot', 'exim', 'ftp']);
    expect(compilerLoaded(json.ajvModules)).toEqual([]);
  });

  it('names the field at fault in a bad config, exactly as before, still without ajv', async () => {
    const config = await writeConfig('bad-config', { concurrency: 'four' });
    const result = await checkWithAjvRecorded(['check', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^certsmith: CONFIG_INVALID: .*bad-config: \$\.concurrency: must be integer$/);
    expect(compilerLoaded(result.ajvModules)).toEqual([]);
  });

  it("names the option at fault in a built-in plugin's options, exactly as before", async () => {
    const config = await writeConfig('bad-options', { plugins: [{ module: '@certsmith/dcv-http', options: { docrot: './www' } }] });
    const result = await checkWithAjvRecorded(['check', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^certsmith: PLUGIN_OPTIONS_INVALID: .*bad-options: \$\.plugins\[0\]\.options: unknown field "docrot"$/);
    expect(compilerLoaded(result.ajvModules)).toEqual([]);
  });
});
