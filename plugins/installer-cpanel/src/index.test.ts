import { describe, expect, it } from 'vitest';
import { contributedInstaller } from '@certsmith/install/testing';
import { manifest } from './index.js';

/** The installer the plugin contributes for a config's services (what the CLI's composition root does). */
const installerFor = (services: Record<string, unknown>) => contributedInstaller(manifest, { services });

describe('@certsmith/installer-cpanel', () => {
  it("installs cpsrvd's combined files: mycpanel.pem + mycpanel.cabundle, or cpanel.pem for a self-signed certificate", async () => {
    const installer = await installerFor({ cpanel: {} });
    expect(installer.service).toBe('cpanel');
    expect(installer.plan({ selfSigned: false }).files).toEqual(['/ssl/cpanel/mycpanel.pem', '/ssl/cpanel/mycpanel.cabundle']);
    expect(installer.plan({ selfSigned: true })).toEqual({ files: ['/ssl/cpanel/cpanel.pem'], reload: null });
  });
});
