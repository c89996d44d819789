import { describe, expect, it } from 'vitest';
import { completeConfig } from '@certsmith/core';
import { installerFromConfig } from './from-config.js';
import { pairLayout } from './layouts.js';
import { SAMPLE_PROFILE } from './testing.js';

const config = (services: Record<string, unknown>) =>
  completeConfig({ hostname: 'host.example.test', paths: { stateDir: '/tmp/state', sslDir: '/ssl' }, services }, '/etc/certsmith/config.json');

/** What an installer was built with (its options are private; the plan and endpoints are its public view). */
const layoutOf = (installer: ReturnType<typeof installerFromConfig>) =>
  (
    installer as unknown as {
      options: { layout: { caSigned: { path: string; mode: number; gid?: number }[]; links: { path: string }[]; metadataDir?: string } };
    }
  ).options.layout;

const DOVECOT = { ...SAMPLE_PROFILE, dir: 'dovecot', layout: pairLayout('dovecot') };

describe('installerFromConfig', () => {
  it('puts the service in <sslDir>/<dir> with 0600 keys, no links and metadata beside the files by default', () => {
    const installer = installerFromConfig(config({ exim: {} }), 'exim', SAMPLE_PROFILE);
    const layout = layoutOf(installer);
    expect(layout.caSigned.map((f) => [f.path, f.mode.toString(8), f.gid])).toEqual([
      ['/ssl/exim/myexim.crt', '644', undefined],
      ['/ssl/exim/myexim.key', '600', undefined],
    ]);
    expect(layout.links).toEqual([]);
    expect(layout.metadataDir).toBe('/ssl/exim');
    expect(installer.plan({ selfSigned: true })).toEqual({ files: ['/ssl/exim/exim.crt', '/ssl/exim/exim.key'], reload: null });
  });

  it("a group makes keys 0640 to it; links: true adds cPanel's paths; dir and reload are taken as given", () => {
    const installer = installerFromConfig(config({ exim: { group: 'root', links: true, dir: 'exim-files', reload: ['/bin/true'] } }), 'exim', SAMPLE_PROFILE);
    const layout = layoutOf(installer);
    expect(layout.caSigned.map((f) => [f.path, f.mode.toString(8), f.gid])).toEqual([
      ['/etc/certsmith/exim-files/myexim.crt', '644', 0],
      ['/etc/certsmith/exim-files/myexim.key', '640', 0],
    ]);
    expect(layout.links.map((l) => l.path)).toEqual(['/etc/exim.crt', '/etc/exim.key']);
    expect(installer.plan({ selfSigned: false }).reload).toEqual(['/bin/true']);
  });

  it('says which field is wrong', () => {
    expect(() => installerFromConfig(config({ dovecot: { keyMode: '0644' } }), 'dovecot', DOVECOT)).toThrow(
      '/etc/certsmith/config.json: $.services.dovecot.keyMode: must be an octal mode that others cannot read',
    );
    expect(() => installerFromConfig(config({ dovecot: { group: 'no-such-group-here' } }), 'dovecot', DOVECOT)).toThrow(
      '$.services.dovecot.group: no group named "no-such-group-here" in /etc/group',
    );
    expect(() => installerFromConfig(config({ dovecot: { links: { '/x.pem': 'cert+key' } } }), 'dovecot', DOVECOT)).toThrow(
      '/etc/certsmith/config.json: $.services.dovecot.links./x.pem: must be one of "key+cert+chain", "key+cert"',
    );
  });
});
