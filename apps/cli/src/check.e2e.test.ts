// The foundation, end to end: the built CLI run as a user runs it, against a temporary sandbox.
import { mkdir, readFile, readdir, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_UNDER_TEST_PATH, fileTimes, labDir, run, runCli } from '@certsmith/testlab';

const SERVICES = {
  cpanel: { cert: 'cpanel/cpanel.pem', key: 'cpanel/cpanel.pem' },
  dovecot: { cert: 'dovecot/dovecot.crt', key: 'dovecot/dovecot.key' },
  exim: { cert: 'exim/exim.crt', key: 'exim/exim.key' },
  ftp: { cert: 'ftp/pure-ftpd.pem', key: 'ftp/pure-ftpd.pem' },
};
const EXAMPLE_PLUGIN = fileURLToPath(new URL('../../../examples/event-log-plugin/index.mjs', import.meta.url));

let dir: { path: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  dir = await labDir('e2e');
});
afterEach(async () => {
  await dir.cleanup();
});

async function writeConfig(extra: Record<string, unknown> = {}, name = 'config.json'): Promise<string> {
  const file = join(dir.path, name);
  await writeFile(
    file,
    JSON.stringify(
      {
        profile: 'full',
        hostname: 'host.sandbox.test',
        names: ['mail.sandbox.test'],
        paths: { stateDir: './state', sslDir: './ssl' },
        inspection: { live: false },
        ...extra,
      },
      null,
      2,
    ),
  );
  return file;
}

async function openssl(args: string[]): Promise<string> {
  const result = await run('openssl', args);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

describe('certsmith check on the embedded sandbox layout', () => {
  it('installs self-signed certificates for all four services, then finds them healthy and writes nothing', async () => {
    const config = await writeConfig();
    const first = await runCli(['check', '--config', config]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Analyzing "host.sandbox.test" (and mail.sandbox.test) ...');
    expect(first.stdout).toContain('TLS Status: Defective');
    expect(first.stdout).toContain('Defect: NO_SSL: No SSL certificate is installed.');
    expect(first.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);

    for (const [service, files] of Object.entries(SERVICES)) {
      const certFile = join(dir.path, 'ssl', files.cert);
      const keyFile = join(dir.path, 'ssl', files.key);
      const text = await openssl(['x509', '-in', certFile, '-noout', '-text']);
      expect(text, service).toContain('DNS:host.sandbox.test, DNS:mail.sandbox.test');
      expect(text, service).toContain('TLS Web Server Authentication');
      expect(text, service).toMatch(/Subject: CN ?= ?host\.sandbox\.test/);
      // The key belongs to the certificate: same public key.
      const fromCert = await openssl(['x509', '-in', certFile, '-noout', '-pubkey']);
      const fromKey = await openssl(['pkey', '-in', keyFile, '-pubout']);
      expect(fromKey, service).toBe(fromCert);
      expect((await stat(keyFile)).mode & 0o777, `${service} key mode`).toBe(0o600);
    }

    const before = await fileTimes(join(dir.path, 'ssl'));
    const second = await runCli(['check', '--config', config]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('TLS Status: OK');
    expect(second.stdout).not.toContain('Installed');
    expect(second.stdout).toMatch(/hostname \(host\.sandbox\.test, mail\.sandbox\.test\): healthy/);
    expect(await fileTimes(join(dir.path, 'ssl'))).toEqual(before);
    // A healthy self-signed certificate without a CA is no reason to write to the administrator every night.
    expect(second.stdout).not.toContain('Warning');
    expect(await readdir(join(dir.path, 'state/outbox'))).toHaveLength(1);
  });

  it('--dry-run says what it would do and writes nothing', async () => {
    const config = await writeConfig();
    const result = await runCli(['check', '--dry-run', '--config', config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/would issue a certificate for host\.sandbox\.test, mail\.sandbox\.test .* install it for cpanel, dovecot, exim, ftp/);
    expect(result.stdout).toContain(
      `would write for dovecot: ${join(dir.path, 'ssl/dovecot/dovecot.crt')}, ${join(dir.path, 'ssl/dovecot/dovecot.key')}; no reload command`,
    );
    expect(await readdir(dir.path)).toEqual(['config.json']);
  });

  it('--json prints one document with the whole report', async () => {
    const config = await writeConfig();
    const result = await runCli(['check', '--json', '--config', config]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      exitCode: number;
      targets: { result: string; services: { service: string; inspect: { defects: { code: string }[] }; installed: { files: string[] } }[] }[];
    };
    expect(report.exitCode).toBe(0);
    expect(report.targets[0]!.result).toBe('replaced');
    expect(report.targets[0]!.services.map((s) => s.service)).toEqual(['cpanel', 'dovecot', 'exim', 'ftp']);
    expect(report.targets[0]!.services[0]!.inspect.defects[0]!.code).toBe('NO_SSL');
    expect(report.targets[0]!.services[1]!.installed.files).toEqual([join(dir.path, 'ssl/dovecot/dovecot.crt'), join(dir.path, 'ssl/dovecot/dovecot.key')]);
  });

  it('replaces a certificate that expires in under 3 days, and only then', async () => {
    const config = await writeConfig();
    expect((await runCli(['check', '--config', config])).code).toBe(0);
    const pem = await readFile(join(dir.path, 'ssl/exim/exim.crt'), 'utf8');
    const end = (await run('openssl', ['x509', '-noout', '-enddate'], { input: pem })).stdout.trim().replace('notAfter=', '');
    const expiry = new Date(end).getTime();
    const fourDaysBefore = new Date(expiry - 4 * 86_400_000).toISOString();
    const twoDaysBefore = new Date(expiry - 2 * 86_400_000).toISOString();

    const calm = await runCli(['check', '--config', config], { env: { CERTSMITH_FAKE_NOW: fourDaysBefore } });
    expect(calm.stdout).toContain('(4.00 days from now)');
    expect(calm.stdout).toContain('TLS Status: OK');

    const due = await runCli(['check', '--config', config], { env: { CERTSMITH_FAKE_NOW: twoDaysBefore } });
    expect(due.code).toBe(0);
    expect(due.stdout).toContain('TLS Status: Ready for Renewal');
    expect(due.stdout).toMatch(/Defect: ALMOST_EXPIRED: the certificate expires in 2\.00 days, under the 3-day threshold/);
    expect(await readFile(join(dir.path, 'ssl/exim/exim.crt'), 'utf8')).not.toBe(pem);
  });

  it('disable_service_certificate_management: inspects, replaces nothing', async () => {
    const config = await writeConfig();
    await mkdir(join(dir.path, 'state'), { recursive: true });
    await writeFile(join(dir.path, 'state/disable_service_certificate_management'), '');
    const result = await runCli(['check', '--config', config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('disable_service_certificate_management is set');
    expect(result.stdout).toContain('Defect: NO_SSL');
    expect(result.stdout).toMatch(/hostname .*: unmanaged/);
    expect(await readdir(join(dir.path, 'ssl'))).toEqual([]);
  });

  it('runs as checkallsslcerts with the same options', async () => {
    const config = await writeConfig();
    const alias = join(dir.path, 'checkallsslcerts');
    await symlink(CLI_UNDER_TEST_PATH, alias);
    const result = await run(process.execPath, [alias, '--dry-run', '--config', config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('dry run');
  });
});

describe('the run lock', () => {
  it('refuses a second run while one holds the lock, and takes over a stale lock', async () => {
    const config = await writeConfig();
    await mkdir(join(dir.path, 'state'), { recursive: true });
    await writeFile(join(dir.path, 'state/run.lock'), `${process.pid}\n`);
    const locked = await runCli(['check', '--config', config]);
    expect(locked.code).toBe(2);
    expect(locked.stderr.trim()).toBe(
      `certsmith: RUN_LOCKED: ${join(dir.path, 'state/run.lock')}: held by another certsmith run (pid ${process.pid}); wait for it to finish`,
    );

    const dead = await run('sh', ['-c', 'echo $$']);
    await writeFile(join(dir.path, 'state/run.lock'), dead.stdout);
    const taken = await runCli(['check', '--config', config]);
    expect(taken.code).toBe(0);
    expect(await readdir(join(dir.path, 'state'))).not.toContain('run.lock');
  });
});

describe('targets', () => {
  it('checks chosen targets beside a scheduled run, and each site target on its own', async () => {
    const config = await writeConfig({ targets: [{ id: 'shop', names: ['Shop.Sandbox.Test.'], services: ['mailman'] }] });
    await mkdir(join(dir.path, 'state'), { recursive: true });
    await writeFile(join(dir.path, 'state/run.lock'), `${process.pid}\n`); // a scheduled run is under way

    const all = await runCli(['check', '--config', config]);
    expect(all.code).toBe(2);
    const one = await runCli(['check', '--target', 'host.sandbox.test', '--config', config]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/hostname \(host\.sandbox\.test, mail\.sandbox\.test\): replaced/);
    expect(one.stdout).not.toContain('shop');

    await writeFile(join(dir.path, 'state/run.lock'), '');
    const both = await runCli(['check', '--config', config]);
    expect(both.code).toBe(1);
    expect(both.stdout).toContain('Analyzing "shop.sandbox.test" ...');
    expect(both.stdout).toMatch(/Error \(inspect, service mailman\): NO_INSTALLER: no installer for service "mailman"/);
    expect(both.stdout).toMatch(/hostname \(host\.sandbox\.test, mail\.sandbox\.test\): healthy/);

    const unknown = await runCli(['check', '--target', 'nope.example', '--config', config]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('certsmith: UNKNOWN_TARGET: --target nope.example: no target has that id or name (targets: hostname, shop)');
  });

  it('refuses a site target named like the hostname target or used twice', async () => {
    const twice = await writeConfig({
      targets: [
        { id: 'a', names: ['a.test'] },
        { id: 'a', names: ['b.test'] },
      ],
    });
    expect((await runCli(['check', '--config', twice])).stderr.trim()).toMatch(/config\.json: \$\.targets\[1\]\.id: "a" is used twice$/);
    const reserved = await writeConfig({ targets: [{ id: 'hostname', names: ['a.test'] }] });
    expect((await runCli(['check', '--config', reserved])).stderr.trim()).toMatch(/\$\.targets\[0\]\.id: "hostname" is the server's own target$/);
  });
});

describe('plugins', () => {
  it('loads a third-party plugin from a path in the config, which sees every event', async () => {
    const events = join(dir.path, 'events.jsonl');
    const config = await writeConfig({ plugins: [{ module: EXAMPLE_PLUGIN, options: { file: events } }] });
    const listed = await runCli(['plugins', '--config', config]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^example-event-log 1\.0\.0 {2}\(listens only\)/m);
    expect(listed.stdout).toMatch(/^@certsmith\/issuer-selfsigned 0\.1\.0 {2}issuer:selfsigned/m);

    expect((await runCli(['check', '--config', config])).code).toBe(0);
    const lines = (await readFile(events, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; event: Record<string, unknown> });
    expect(lines.filter((l) => l.type === 'inspect')).toHaveLength(4);
    expect(lines.filter((l) => l.type === 'issued')).toHaveLength(1);
    expect(lines.filter((l) => l.type === 'installed').map((l) => l.event.service)).toEqual(['cpanel', 'dovecot', 'exim', 'ftp']);
    // The private key never travels on the bus.
    const key = await readFile(join(dir.path, 'ssl/dovecot/dovecot.key'), 'utf8');
    const keyBody = key.split('\n')[1]!;
    expect(await readFile(events, 'utf8')).not.toContain(keyBody);
  });

  const broken: [string, string, RegExp][] = [
    [
      'wrong API version',
      'export const manifest = { name: "old-plugin", apiVersion: 0, setup() {} };',
      /^certsmith: PLUGIN_API_VERSION: .*config\.json: \$\.plugins\[0\]: plugin "old-plugin" speaks plugin API 0, this certsmith speaks 1$/,
    ],
    ['no manifest', 'export const something = 1;', /^certsmith: PLUGIN_INVALID: .*config\.json: \$\.plugins\[0\]: plugin ".*broken\.mjs" exports no manifest/],
    [
      'a setup that throws',
      'export const manifest = { name: "thrower", apiVersion: 1, setup() { throw new Error("cannot open /nonexistent"); } };',
      /^certsmith: PLUGIN_FAILED: .*config\.json: \$\.plugins\[0\]: plugin "thrower" failed to set up: cannot open \/nonexistent$/,
    ],
    [
      'bad options',
      'export const manifest = { name: "strict", apiVersion: 1, optionsSchema: { type: "object", required: ["file"] }, setup() {} };',
      /^certsmith: PLUGIN_OPTIONS_INVALID: .*config\.json: \$\.plugins\[0\]\.options: missing required field "file"$/,
    ],
  ];
  for (const [what, source, message] of broken) {
    it(`refuses a plugin with ${what} before touching any target`, async () => {
      const plugin = join(dir.path, 'broken.mjs');
      await writeFile(plugin, source);
      const config = await writeConfig({ plugins: ['./broken.mjs'] });
      const result = await runCli(['check', '--config', config]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(await readdir(dir.path)).toEqual(['broken.mjs', 'config.json']);
    });
  }
});

describe('bad input: one clear line, exit 2, nothing written', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['a missing config', async () => join(dir.path, 'absent.json'), /absent\.json: cannot read the configuration \(no such file\)/],
    [
      'invalid JSON',
      async () => {
        const f = join(dir.path, 'config.json');
        await writeFile(f, '{"profile": "full",');
        return f;
      },
      /config\.json:1:20: not valid JSON: /,
    ],
    ['an unknown profile', () => writeConfig({ profile: 'mailonly' }), /config\.json: \$\.profile: must be one of "full", "dnsonly"$/],
    [
      'a wrong type deep inside',
      () => writeConfig({ services: { dovecot: { endpoints: [{ host: 'x', port: 'imap' }] } } }),
      /config\.json: \$\.services\.dovecot/,
    ],
    ['an unknown field', () => writeConfig({ hostnmae: 'x' }), /config\.json: \$: unknown field "hostnmae"$/],
    ['an unknown plugin', () => writeConfig({ plugins: ['@certsmith/no-such-plugin'] }), /plugin "@certsmith\/no-such-plugin" not found/],
    [
      'an issuer no plugin provides',
      () => writeConfig({ issuers: ['sectigo', 'selfsigned'] }),
      /config\.json: \$\.issuers\[0\]: no loaded plugin provides issuer "sectigo"/,
    ],
    [
      'an sslDir that is a file',
      async () => {
        await writeFile(join(dir.path, 'ssl'), 'not a dir');
        return writeConfig();
      },
      /config\.json: \$\.paths\.sslDir: .*\/ssl is not a directory$/,
    ],
  ];
  for (const [what, makeConfig, message] of cases) {
    it(what, async () => {
      const config = await makeConfig();
      const before = await readdir(dir.path);
      const result = await runCli(['check', '--config', config]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await readdir(dir.path)).toEqual(before);
    });
  }

  it('an sslDir the user cannot write (as an unprivileged user)', async () => {
    const config = await writeConfig();
    await mkdir(join(dir.path, 'ssl'), { mode: 0o555 });
    await mkdir(join(dir.path, 'state'), { mode: 0o777 });
    await chmod(join(dir.path, 'state'), 0o777);
    await chmod(dir.path, 0o755);
    const result = await run('setpriv', [
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      process.execPath,
      CLI_UNDER_TEST_PATH,
      'check',
      '--config',
      config,
    ]);
    expect(result.stderr.trim()).toMatch(/config\.json: \$\.paths\.sslDir: .*\/ssl is not usable \(permission denied\)$/);
    expect(result.code).toBe(2);
    expect(await readdir(join(dir.path, 'ssl'))).toEqual([]);
  });

  it('usage errors', async () => {
    expect((await runCli(['frobnicate'])).stderr).toBe('certsmith: USAGE: frobnicate: unknown command (see certsmith --help)\n');
    expect((await runCli(['check', '--allow-retry', '--no-retry'])).code).toBe(2);
    const version = await runCli(['--version']);
    expect(version.stdout).toMatch(/^certsmith \d+\.\d+\.\d+\n$/);
    expect((await runCli(['--help'])).stdout).toContain('Exit codes: 0 all healthy or fixed, 1 some target failed, 2 usage or configuration error.');
  });
});
