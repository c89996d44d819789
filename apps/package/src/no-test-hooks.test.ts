// The installable package is built from the shipped CLI only: none of its files names a test hook (the environment
// variables apps/cli/testing reads) or kills its own process.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist', import.meta.url));
const HOOKS = [/CERTSMITH_FAKE_NOW/, /CERTSMITH_FAULT_KILL_AT/, /CERTSMITH_DNS_LOOPBACK_ONLY/, /\bVITEST\b/, /process\.kill\(process\.pid/];

describe('the package', () => {
  it('holds no test hook', async () => {
    const entries = await readdir(DIST, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && /\.(c|m)?js$/.test(e.name)).map((e) => join(e.parentPath, e.name));
    expect(files.length).toBeGreaterThan(10);
    const found: string[] = [];
    let configVariable = false;
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const hook of HOOKS) if (hook.test(text)) found.push(`${file.slice(DIST.length + 1)}: ${hook.source}`);
      // The scan reads the program's text: the variable the program does read (the default config) is found.
      configVariable ||= text.includes('CERTSMITH_CONFIG');
    }
    expect(found).toEqual([]);
    expect(configVariable).toBe(true);
  });
});
