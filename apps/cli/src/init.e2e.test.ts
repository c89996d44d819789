// `certsmith init` through the built CLI: writes a commented starting config that `check --dry-run` loads, and never
// replaces an existing file without --force.
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort, labDir, runCli } from '@certsmith/testlab';

let dir: { path: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  dir = await labDir('init');
});
afterEach(async () => {
  await dir.cleanup();
});

const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

describe('certsmith init', () => {
  it('writes a commented config for the profile asked, 0600, in a directory it creates', async () => {
    const file = join(dir.path, 'etc/certsmith/config.json');
    const result = await runCli(['init', '--profile', 'dnsonly', '--config', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`wrote ${file} (profile dnsonly: as asked)`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const written = await readJson(file);
    expect(written.profile).toBe('dnsonly');
    expect(written.$comment).toEqual(expect.arrayContaining([expect.stringContaining('certsmith init')]));
    expect(Object.keys(written.services as object)).toEqual(['cpanel']);
  });

  it("detects the profile from cPanel's DNS-only marker when none is asked", async () => {
    const file = join(dir.path, 'config.json');
    const result = await runCli(['init', '--config', file]);
    expect(result.code).toBe(0);
    const expected = existsSync('/var/cpanel/dnsonly') ? 'dnsonly' : 'full';
    expect((await readJson(file)).profile).toBe(expected);
  });

  it('never replaces an existing file without --force: exit 2, one line, the file untouched', async () => {
    const file = join(dir.path, 'config.json');
    await writeFile(file, '{ "profile": "full" }\n');
    const refused = await runCli(['init', '--config', file]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toBe(`certsmith: CONFIG_EXISTS: ${file}: exists; not replaced (--force replaces it)\n`);
    expect(await readFile(file, 'utf8')).toBe('{ "profile": "full" }\n');

    const forced = await runCli(['init', '--config', file, '--force', '--profile', 'full']);
    expect(forced.code).toBe(0);
    expect((await readJson(file)).$comment).toBeDefined();
  });

  it('refuses a bad profile or option with one line and exit 2, writing nothing', async () => {
    const file = join(dir.path, 'config.json');
    for (const [args, message] of [
      [['--profile', 'web'], '--profile: must be full or dnsonly, not "web"'],
      [['--colour', 'blue'], '--colour: unknown option'],
      [['--profile'], '--profile: needs a value'],
    ] as const) {
      const result = await runCli(['init', '--config', file, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toBe(`certsmith: USAGE: ${message} (see certsmith init --help)\n`);
      expect(existsSync(file)).toBe(false);
    }
  });

  it.each(['full', 'dnsonly'])('writes a %s config that check --dry-run loads', async (profile) => {
    const file = join(dir.path, 'config.json');
    expect((await runCli(['init', '--profile', profile, '--config', file])).code).toBe(0);
    // Only to keep the test on this machine whatever its hostname: DNS goes to a closed loopback port.
    const config = await readJson(file);
    await writeFile(join(dir.path, 'root.hints'), '.  3600000  NS  a.root.test.\na.root.test.  3600000  A  127.0.0.1\n');
    await writeFile(file, JSON.stringify({ ...config, dns: { rootHints: './root.hints', port: await freePort(), timeoutMs: 200, retries: 0 } }));
    const dry = await runCli(['check', '--dry-run', '--config', file]);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`(${profile} profile, dry run)`);
    expect(dry.stdout).toMatch(/would issue a certificate for .* \(issuers: selfsigned\)/);
  });
});
