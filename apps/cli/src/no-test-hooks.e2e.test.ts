// The shipped program holds no test hook: the built CLI and every workspace package it loads name none of the test
// entry's environment variables and never kill their own process; only apps/cli/testing reads them. The scan is shown
// to find what it looks for by running it on the test entry too.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, CLI_UNDER_TEST_PATH, runCli } from '@certsmith/testlab';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** What only a test composition may read or do. */
const HOOKS = [/CERTSMITH_FAKE_NOW/, /CERTSMITH_FAULT_KILL_AT/, /CERTSMITH_DNS_LOOPBACK_ONLY/, /\bVITEST\b/, /process\.kill\(process\.pid/];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && /\.(c|m)?js$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

/** `file: pattern` for every hook a file holds. */
async function hooksIn(files: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const hook of HOOKS) if (hook.test(text)) found.push(`${file.slice(REPO.length)}: ${hook.source}`);
  }
  return found;
}

describe('no test hook in the program', () => {
  it('the built CLI and the built workspace packages it loads name no test hook', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'apps/cli/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const workspace = Object.keys(pkg.dependencies).filter((name) => name.startsWith('@certsmith/'));
    expect(workspace.length).toBeGreaterThan(10);
    const dirs = [join(REPO, 'apps/cli/dist'), ...workspace.map((name) => join(REPO, 'node_modules', name, 'dist'))];
    const files = (await Promise.all(dirs.map(filesUnder))).flat();
    expect(files.length).toBeGreaterThan(100);
    expect(await hooksIn(files)).toEqual([]);
  });

  it('the test entry is where they are read', async () => {
    expect(await hooksIn([CLI_UNDER_TEST_PATH])).toEqual(
      expect.arrayContaining([expect.stringContaining('CERTSMITH_FAKE_NOW'), expect.stringContaining('CERTSMITH_FAULT_KILL_AT')]),
    );
  });

  it('the shipped CLI ignores a fake time; the test entry refuses one that is not a date', async () => {
    const config = join(REPO, 'config/sandbox.json');
    const env = { CERTSMITH_FAKE_NOW: 'not a date' };
    const shipped = await runCli(['plugins', '--config', config], { env, cli: CLI_PATH });
    expect(shipped.stderr).toBe('');
    expect(shipped.code).toBe(0);
    const underTest = await runCli(['plugins', '--config', config], { env });
    expect(underTest.stderr).toBe('certsmith: BAD_FAKE_NOW: CERTSMITH_FAKE_NOW="not a date" is not a date\n');
    expect(underTest.code).toBe(2);
  });
});
