import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeConfig } from '@certsmith/core';
import { distroFamilyOf, forDistro, readDistroFamily } from './distro.js';
import { installerFromConfig } from './from-config.js';
import { SAMPLE_PROFILE } from './testing.js';

const OS_RELEASE = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  ubuntu: 'NAME="Ubuntu"\nVERSION="24.04 LTS (Noble Numbat)"\nID=ubuntu\nID_LIKE=debian\n',
  mint: 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
  rocky: 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
  alma: 'NAME="AlmaLinux"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n',
  rhel: 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\n',
  cloudlinux: "NAME='CloudLinux'\nID='cloudlinux'\nID_LIKE='rhel fedora centos'\n",
  arch: 'NAME="Arch Linux"\nID=arch\n',
};

describe('distroFamilyOf', () => {
  it.each([
    ['debian', 'debian'],
    ['ubuntu', 'debian'],
    ['mint', 'debian'],
    ['rocky', 'rhel'],
    ['alma', 'rhel'],
    ['rhel', 'rhel'],
    ['cloudlinux', 'rhel'],
    ['arch', 'other'],
  ] as const)('%s is of the %s family', (name, family) => {
    expect(distroFamilyOf(OS_RELEASE[name])).toBe(family);
  });

  it('reads the first os-release file that exists; none is "other"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'os-release-'));
    await writeFile(join(dir, 'os-release'), OS_RELEASE.rocky);
    expect(readDistroFamily([join(dir, 'missing'), join(dir, 'os-release')])).toBe('rhel');
    expect(readDistroFamily([join(dir, 'missing')])).toBe('other');
  });

  it('picks the family command, else the common one', () => {
    expect(forDistro(SAMPLE_PROFILE.systemdReload, 'debian')).toEqual(['systemctl', 'restart', 'exim4']);
    expect(forDistro(SAMPLE_PROFILE.systemdReload, 'rhel')).toEqual(['systemctl', 'restart', 'exim']);
    expect(forDistro({ other: ['systemctl', 'reload', 'dovecot'] }, 'debian')).toEqual(['systemctl', 'reload', 'dovecot']);
  });
});

describe("an installer's reload (a service whose unit is exim4 on Debian, exim elsewhere)", () => {
  const config = (services: Record<string, unknown> = {}) =>
    completeConfig({ hostname: 'h.example.test', services, paths: { stateDir: '/nonexistent/state' } }, '/c.json');
  const reloadOf = (c: ReturnType<typeof config>, deps: Parameters<typeof installerFromConfig>[3]) =>
    installerFromConfig(c, 'exim', SAMPLE_PROFILE, deps).reloadChoice;

  it("is the distribution's unit on systemd, none without systemd, the config's when given", () => {
    expect(reloadOf(config(), { distroFamily: 'debian', systemdRunning: true })).toEqual({
      command: ['systemctl', 'restart', 'exim4'],
      why: "the Debian family's default (set $.services.exim.reload to change it)",
    });
    expect(reloadOf(config(), { distroFamily: 'rhel', systemdRunning: true }).command).toEqual(['systemctl', 'restart', 'exim']);
    expect(reloadOf(config(), { distroFamily: 'debian', systemdRunning: false })).toEqual({
      command: null,
      why: "none: systemd is not running here (the Debian family's default would be: systemctl restart exim4; set $.services.exim.reload)",
    });
    const given = config({ exim: { reload: ['/usr/sbin/exim4', '-qff'] } });
    expect(reloadOf(given, { distroFamily: 'rhel', systemdRunning: true })).toEqual({
      command: ['/usr/sbin/exim4', '-qff'],
      why: 'from $.services.exim.reload',
    });
    expect(reloadOf(config({ exim: { reload: false } }), { distroFamily: 'rhel', systemdRunning: true })).toEqual({
      command: null,
      why: 'none: $.services.exim.reload is false',
    });
  });
});
