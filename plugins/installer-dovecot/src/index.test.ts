import { describe, expect, it } from 'vitest';
import { forDistro } from '@certsmith/install';
import { contributedInstaller } from '@certsmith/install/testing';
import { DOVECOT_PROFILE, manifest } from './index.js';

/** The installer the plugin contributes for a config's services (what the CLI's composition root does). */
const installerFor = (services: Record<string, unknown>) => contributedInstaller(manifest, { services });

describe('@certsmith/installer-dovecot', () => {
  it('installs mydovecot.crt/.key (or dovecot.crt/.key), with /etc/dovecot/ssl only when links are asked for', async () => {
    const plain = await installerFor({ dovecot: { reload: ['/usr/bin/doveadm', 'reload'] } });
    expect(plain.service).toBe('dovecot');
    expect(plain.plan({ selfSigned: false })).toEqual({
      files: ['/ssl/dovecot/mydovecot.crt', '/ssl/dovecot/mydovecot.key'],
      reload: ['/usr/bin/doveadm', 'reload'],
    });
    const linked = await installerFor({ dovecot: { links: true } });
    expect(linked.plan({ selfSigned: true }).files).toEqual([
      '/ssl/dovecot/dovecot.crt',
      '/ssl/dovecot/dovecot.key',
      '/etc/dovecot/ssl/dovecot.crt',
      '/etc/dovecot/ssl/dovecot.key',
    ]);
  });

  it('is reloaded in place as dovecot on every distribution', () => {
    expect(forDistro(DOVECOT_PROFILE.systemdReload, 'debian')).toEqual(['systemctl', 'reload', 'dovecot']);
    expect(forDistro(DOVECOT_PROFILE.systemdReload, 'rhel')).toEqual(['systemctl', 'reload', 'dovecot']);
  });
});
