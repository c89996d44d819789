import { describe, expect, it } from 'vitest';
import { forDistro } from '@certsmith/install';
import { contributedInstaller } from '@certsmith/install/testing';
import { EXIM_PROFILE, manifest } from './index.js';

/** The installer the plugin contributes for a config's services (what the CLI's composition root does). */
const installerFor = (services: Record<string, unknown>) => contributedInstaller(manifest, { services });

describe('@certsmith/installer-exim', () => {
  it('installs myexim.crt/.key (or exim.crt/.key), with /etc/exim.crt and /etc/exim.key only when links are asked for', async () => {
    const plain = await installerFor({ exim: {} });
    expect(plain.service).toBe('exim');
    expect(plain.plan({ selfSigned: false }).files).toEqual(['/ssl/exim/myexim.crt', '/ssl/exim/myexim.key']);
    const linked = await installerFor({ exim: { links: true, endpoints: [{ host: '127.0.0.4', port: 25, starttls: 'smtp' }] } });
    expect(linked.plan({ selfSigned: true }).files).toEqual(['/ssl/exim/exim.crt', '/ssl/exim/exim.key', '/etc/exim.crt', '/etc/exim.key']);
    expect(linked.endpoints({ id: 'hostname', names: ['host.example.test'], services: ['exim'], kind: 'hostname' })).toEqual([
      { host: '127.0.0.4', port: 25, starttls: 'smtp', servername: 'host.example.test' },
    ]);
  });

  it('is restarted, not reloaded, through the unit its distribution names: exim4 on Debian, exim on the RHEL family', () => {
    expect(forDistro(EXIM_PROFILE.systemdReload, 'debian')).toEqual(['systemctl', 'restart', 'exim4']);
    expect(forDistro(EXIM_PROFILE.systemdReload, 'rhel')).toEqual(['systemctl', 'restart', 'exim']);
  });
});
