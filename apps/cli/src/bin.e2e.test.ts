// In a clone, npm links the CLI's bins (apps/cli/bin, committed) into node_modules/.bin at npm ci: they run the built CLI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '@certsmith/testlab';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(REPO, 'node_modules', '.bin');
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe("the clone's commands", () => {
  it('certsmith runs as a command, with the version of this checkout', async () => {
    const result = await run(join(BIN, 'certsmith'), ['--version']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`certsmith ${VERSION}\n`);
  });

  it('checkallsslcerts is certsmith check', async () => {
    const result = await run(join(BIN, 'checkallsslcerts'), ['--config', '/nonexistent/config.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^certsmith: CONFIG_UNREADABLE: \/nonexistent\/config\.json: cannot read the configuration/);
  });
});
