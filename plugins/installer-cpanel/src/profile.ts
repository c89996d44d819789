import { join } from 'node:path';
import { certificateAt, combinedAt, type ServiceProfile } from '@certsmith/install';

/**
 * The control-panel daemon (cpsrvd): mycpanel.pem (key, certificate, chain) beside mycpanel.cabundle for a
 * CA-signed certificate, cpanel.pem (key and certificate) for a self-signed one, under <sslDir>/cpanel; cPanel's
 * own script restarts it.
 */
export const CPANEL_PROFILE: ServiceProfile = {
  dir: 'cpanel',
  layout: (dir) => ({
    caSigned: [combinedAt(join(dir, 'mycpanel.pem')), { ...certificateAt(join(dir, 'mycpanel.cabundle')), role: 'chain', content: 'chain' }],
    selfSigned: [combinedAt(join(dir, 'cpanel.pem'), 'key+cert')],
  }),
  links: () => [],
  systemdReload: { other: ['/usr/local/cpanel/scripts/restartsrv_cpsrvd'] },
};
