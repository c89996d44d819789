// Service names per distribution, through the CLI: on this Debian machine a config without a reload uses Debian's
// units (exim4), `certsmith plugins --verbose` says which and why, and a reload in the config wins.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli } from '@certsmith/testlab';

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await labDir('service-names');
});
afterAll(async () => {
  await dir.cleanup();
});

async function listed(name: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  const file = join(dir.path, `${name}.json`);
  const config = { profile: 'full', hostname: 'host.sandbox.test', paths: { stateDir: './state', sslDir: './ssl' }, inspection: { live: false }, ...extra };
  await writeFile(file, JSON.stringify(config, null, 2));
  const result = await runCli(['plugins', '--verbose', '--config', file]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout.split('\n').filter((line) => /^ {2}\w+ reload: /.test(line));
}

describe('reload commands per distribution', () => {
  it("uses Debian's exim4 unit when the config names none, and says why", async () => {
    expect(await readFile('/etc/os-release', 'utf8'), 'this test runs on Debian').toMatch(/^ID=debian$/m);
    const lines = await listed('default');
    const exim = lines.find((l) => l.startsWith('  exim reload: '));
    // With systemd it is the command; without (a container) none is run, and the line says what would be.
    expect(exim).toMatch(
      /^ {2}exim reload: (systemctl restart exim4 {2}\(the Debian family's default|\(none\) {2}\(none: systemd is not running here \(the Debian family's default would be: systemctl restart exim4;)/,
    );
    expect(exim).toContain('set $.services.exim.reload');
    expect(lines.find((l) => l.startsWith('  dovecot reload: '))).toMatch(/systemctl reload dovecot/);
  });

  it("a reload in the config wins over the distribution's", async () => {
    const lines = await listed('override', { services: { exim: { reload: ['/usr/sbin/exim', '-bd', '-q1h'] } } });
    expect(lines).toContain('  exim reload: /usr/sbin/exim -bd -q1h  (from $.services.exim.reload)');
    const off = await listed('off', { services: { exim: { reload: false } } });
    expect(off).toContain('  exim reload: (none)  (none: $.services.exim.reload is false)');
  });
});
