import { describe, expect, it } from 'vitest';
import { contributedInstaller } from '@certsmith/install/testing';
import { manifest } from './index.js';

/** The installer the plugin contributes for a config's services (what the CLI's composition root does). */
const installerFor = (services: Record<string, unknown>) => contributedInstaller(manifest, { services });

describe('@certsmith/installer-ftp', () => {
  it("installs Pure-FTPd's combined pure-ftpd.pem by default, ProFTPD's proftpd.crt/.key when asked", async () => {
    const pure = await installerFor({ ftp: {} });
    expect(pure.service).toBe('ftp');
    expect(pure.plan({ selfSigned: false }).files).toEqual(['/ssl/ftp/pure-ftpd.pem']);
    expect(pure.plan({ selfSigned: true }).files).toEqual(['/ssl/ftp/pure-ftpd.pem']);
    const pro = await installerFor({ ftp: { server: 'proftpd' } });
    expect(pro.plan({ selfSigned: false }).files).toEqual(['/ssl/ftp/proftpd.crt', '/ssl/ftp/proftpd.key']);
  });
});
