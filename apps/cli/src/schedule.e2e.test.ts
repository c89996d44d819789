// `certsmith schedule` end to end, through the built CLI on this machine (systemd is not its init, so no systemctl
// runs: the output says how to enable the timer). The units it writes are checked with systemd-analyze verify.
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_UNDER_TEST_PATH, cliNodeFlags, labDir, run, runCli } from '@certsmith/testlab';

let dir: { path: string; cleanup: () => Promise<void> };
let units: string;
let config: string;
beforeEach(async () => {
  dir = await labDir('schedule');
  units = join(dir.path, 'units');
  await mkdir(units);
  config = join(dir.path, 'config.json');
  await writeFile(config, '{}\n');
});
afterEach(async () => {
  await dir.cleanup();
});

const schedule = (...args: string[]) => runCli(['schedule', ...args]);
const execStart = `ExecStart=${[process.execPath, ...cliNodeFlags(CLI_UNDER_TEST_PATH), CLI_UNDER_TEST_PATH, 'check', '--config', '@CONFIG@'].join(' ')}`;

describe('certsmith schedule on a machine without a running systemd', () => {
  it('install writes the service and timer, show prints them, install again changes nothing, remove deletes them', async () => {
    const first = await schedule('install', '--unit-dir', units, '--config', config);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      `written: ${units}/certsmith.service\nwritten: ${units}/certsmith.timer\nsystemd is not running: enable with: systemctl daemon-reload && systemctl enable --now certsmith.timer\n`,
    );
    expect((await readdir(units)).sort()).toEqual(['certsmith.service', 'certsmith.timer']);
    const service = await readFile(join(units, 'certsmith.service'), 'utf8');
    expect(service).toContain(`\n${execStart.replace('@CONFIG@', config)}\n`);
    expect(service).toContain('\nType=oneshot\n');
    const timer = await readFile(join(units, 'certsmith.timer'), 'utf8');
    expect(timer).toMatch(/\nOnCalendar=daily\nRandomizedDelaySec=6h\n[\s\S]*\nPersistent=true\n/);
    expect((await stat(join(units, 'certsmith.service'))).mode & 0o777).toBe(0o644);

    const shown = await schedule('show', '--unit-dir', units);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`${units}/certsmith.service:\n  # certsmith: one check`);
    expect(shown.stdout).toContain(`  ${execStart.replace('@CONFIG@', config)}\n`);
    expect(shown.stdout).toContain(`${units}/certsmith.timer:\n`);
    expect(shown.stdout).toContain('  Persistent=true\n');

    const before = await stat(join(units, 'certsmith.service'));
    const again = await schedule('install', '--unit-dir', units, '--config', config);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged: ${units}/certsmith.service\nunchanged: ${units}/certsmith.timer\n`);
    expect((await stat(join(units, 'certsmith.service'))).mtimeMs).toBe(before.mtimeMs);
    expect((await readdir(units)).sort()).toEqual(['certsmith.service', 'certsmith.timer']);

    const removed = await schedule('remove', '--unit-dir', units);
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe(
      `systemd is not running: nothing to disable (systemctl disable --now certsmith.timer where it runs)\nremoved: ${units}/certsmith.service\nremoved: ${units}/certsmith.timer\n`,
    );
    expect(await readdir(units)).toEqual([]);
    expect((await schedule('show', '--unit-dir', units)).stdout).toBe(
      `${units}/certsmith.service: not installed\n${units}/certsmith.timer: not installed\nno certsmith schedule is installed (certsmith schedule install)\n`,
    );
  });

  it('the units pass systemd-analyze verify (errors or warnings about our units fail the test)', async () => {
    const result = await schedule('install', '--unit-dir', units, '--config', config);
    expect(result.code).toBe(0);
    const verify = await run('/usr/bin/systemd-analyze', ['verify', join(units, 'certsmith.service'), join(units, 'certsmith.timer')], {
      env: { ...process.env, SYSTEMD_LOG_LEVEL: 'info', SYSTEMD_PAGER: '' },
    });
    // systemd-analyze also reads the units ours depend on (network-online.target, timers.target) and may complain about
    // this machine's own: only lines about our files count, and for them any line is a failure (an unknown key is a
    // warning with exit 0).
    const ours = `${verify.stdout}${verify.stderr}`.split('\n').filter((line) => line.includes(units) || /certsmith\.(service|timer)/.test(line));
    expect(ours).toEqual([]);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('--cron: writes one cron line with this certsmith and config; remove deletes it', async () => {
    const cronFile = join(dir.path, 'certsmith.cron');
    const first = await schedule('install', '--cron', '--cron-file', cronFile, '--config', config);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const text = await readFile(cronFile, 'utf8');
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\d{1,2} [0-5] \\* \\* \\* root ${[process.execPath, ...cliNodeFlags(CLI_UNDER_TEST_PATH), CLI_UNDER_TEST_PATH].join(' ')} check --config ${config} >/dev/null$`,
      ),
    );
    expect(first.stdout).toBe(`written: ${cronFile}\ncertsmith check runs daily from cron: ${lines[0]}\n`);
    expect((await schedule('install', '--cron-file', cronFile, '--config', config)).stdout).toContain(`unchanged: ${cronFile}\n`);
    expect((await schedule('show', '--cron-file', cronFile)).stdout).toContain(`${cronFile}:\n`);
    const removed = await schedule('remove', '--cron-file', cronFile);
    expect(removed.stdout).toBe(`removed: ${cronFile}\n`);
    await expect(stat(cronFile)).rejects.toThrow();
  });

  it('a missing or unusable unit directory: one line naming it, exit 2, nothing written', async () => {
    const missing = join(dir.path, 'no-such-dir');
    const result = await schedule('install', '--unit-dir', missing, '--config', config);
    expect(result.stderr).toBe(`certsmith: SCHEDULE_INVALID: ${missing}: the unit directory does not exist\n`);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect((await readdir(dir.path)).sort()).toEqual(['config.json', 'units']);

    const file = join(dir.path, 'config.json');
    const notDir = await schedule('install', '--unit-dir', file);
    expect(notDir.stderr).toBe(`certsmith: SCHEDULE_INVALID: ${file}: the unit directory is not a directory\n`);
    expect(notDir.code).toBe(2);

    const removeMissing = await schedule('remove', '--unit-dir', missing);
    expect(removeMissing.stderr).toBe(`certsmith: SCHEDULE_INVALID: ${missing}: the unit directory does not exist\n`);
    expect(removeMissing.code).toBe(2);

    // Root reads and writes a directory of mode 0: refused for everyone else.
    if (process.getuid?.() !== 0) {
      await chmod(units, 0o500);
      const readOnly = await schedule('install', '--unit-dir', units);
      expect(readOnly.stderr).toBe(`certsmith: SCHEDULE_INVALID: ${units}: the unit directory cannot be written (EACCES)\n`);
      expect(readOnly.code).toBe(2);
    }
    expect(await readdir(units)).toEqual([]);
  });

  it('an unknown action or option: one line, exit 2', async () => {
    const result = await schedule('enable');
    expect(result.stderr).toBe('certsmith: USAGE: enable: unknown action (see certsmith schedule --help)\n');
    expect(result.code).toBe(2);
    const option = await schedule('install', '--unit-directory', units);
    expect(option.stderr).toBe('certsmith: USAGE: --unit-directory: unknown option (see certsmith schedule --help)\n');
    const value = await schedule('install', '--unit-dir');
    expect(value.stderr).toBe('certsmith: USAGE: --unit-dir: needs a value (see certsmith schedule --help)\n');
    expect(value.code).toBe(2);
    expect(option.code).toBe(2);
  });
});
