// The schedule command on a machine whose init is systemd: the systemctl calls it makes, in order, through an injected
// runner (the e2e test runs the CLI on this machine, where systemd is not the init, and checks the files with
// systemd-analyze).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSchedule, type ScheduleDeps } from './schedule-command.js';
import { shareDir } from './share-dir.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certsmith-schedule-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function machine(systemd: boolean, options: { failing?: string[]; unitDirs?: string[] } = {}) {
  const calls: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const deps: ScheduleDeps = {
    run: async (command) => {
      calls.push(command.join(' '));
      return options.failing?.includes(command.join(' ')) ? { code: 1, output: 'Failed to connect to bus' } : { code: 0, output: '' };
    },
    systemdRunning: () => systemd,
    systemdUnitDirs: options.unitDirs ?? [dir],
    certsmith: ['/usr/bin/node', '/opt/certsmith/dist/main.js'],
    hostname: 'host.example.test',
    shareDir: shareDir(),
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
  return { deps, calls, out, err };
}

describe('certsmith schedule where systemd is the init', () => {
  it('install: writes the units, daemon-reload, enable --now; twice: unchanged; remove: disable --now, delete, daemon-reload', async () => {
    const m = machine(true);
    expect(await runSchedule(['install', '--unit-dir', dir, '--config', '/etc/certsmith/config.json'], m.deps)).toBe(0);
    expect(m.calls).toEqual(['systemctl daemon-reload', 'systemctl enable --now certsmith.timer']);
    expect((await readdir(dir)).sort()).toEqual(['certsmith.service', 'certsmith.timer']);
    expect(m.out).toContain(`written: ${join(dir, 'certsmith.service')}`);

    const again = machine(true);
    expect(await runSchedule(['install', '--unit-dir', dir, '--config', '/etc/certsmith/config.json'], again.deps)).toBe(0);
    expect(again.out).toContain(`unchanged: ${join(dir, 'certsmith.service')}`);
    expect(again.out).toContain(`unchanged: ${join(dir, 'certsmith.timer')}`);

    const removal = machine(true);
    expect(await runSchedule(['remove', '--unit-dir', dir], removal.deps)).toBe(0);
    expect(removal.calls).toEqual(['systemctl disable --now certsmith.timer', 'systemctl daemon-reload']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('--cron-file alone means cron, even with systemd running: no systemctl', async () => {
    const m = machine(true);
    expect(await runSchedule(['install', '--cron-file', join(dir, 'certsmith')], m.deps)).toBe(0);
    expect(await readdir(dir)).toEqual(['certsmith']);
    expect(m.calls).toEqual([]);
  });

  it('units in a directory systemd does not read: written, and the run says how to link them', async () => {
    const m = machine(true, { unitDirs: ['/etc/systemd/system'] });
    expect(await runSchedule(['install', '--unit-dir', dir], m.deps)).toBe(0);
    expect(m.calls).toEqual([]);
    expect(m.out.at(-1)).toBe(
      `systemd does not read units from ${dir} (link them with systemctl link): enable with: systemctl daemon-reload && systemctl enable --now certsmith.timer`,
    );
  });

  it('a failing systemctl is one line with its output and exit 1', async () => {
    const m = machine(true, { failing: ['systemctl enable --now certsmith.timer'] });
    expect(await runSchedule(['install', '--unit-dir', dir], m.deps)).toBe(1);
    expect(m.err).toEqual(['certsmith: SYSTEMCTL_FAILED: systemctl enable --now certsmith.timer: exit 1: Failed to connect to bus']);
  });

  it('usage errors: one line, exit 2', async () => {
    for (const [args, line] of [
      [[], 'certsmith: USAGE: schedule: say install, remove or show (see certsmith schedule --help)'],
      [['start'], 'certsmith: USAGE: start: unknown action (see certsmith schedule --help)'],
      [['install', '--cron', '--unit-dir', dir], 'certsmith: USAGE: --cron: excludes --unit-dir (see certsmith schedule --help)'],
    ] as const) {
      const m = machine(false);
      expect(await runSchedule([...args], m.deps)).toBe(2);
      expect(m.err).toEqual([line]);
    }
  });
});
