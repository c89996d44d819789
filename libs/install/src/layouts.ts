import { join } from 'node:path';
import type { ServiceLayout } from './file-installer.js';

const KEY = 0o600;
const PUBLIC = 0o644;

/** The cPanel service files of DOMAIN.md under a base directory (/var/cpanel/ssl on a real server). */
export const CPANEL_LAYOUTS: Record<'cpanel' | 'dovecot' | 'exim' | 'ftp', (sslDir: string) => ServiceLayout> = {
  cpanel: (base) => ({
    caSigned: [
      { path: join(base, 'cpanel/mycpanel.pem'), role: 'combined', content: 'key+cert+chain', mode: KEY },
      { path: join(base, 'cpanel/mycpanel.cabundle'), role: 'chain', content: 'chain', mode: PUBLIC },
    ],
    selfSigned: [{ path: join(base, 'cpanel/cpanel.pem'), role: 'combined', content: 'key+cert', mode: KEY }],
  }),
  dovecot: (base) => ({
    caSigned: [
      { path: join(base, 'dovecot/mydovecot.crt'), role: 'certificate', content: 'cert+chain', mode: PUBLIC },
      { path: join(base, 'dovecot/mydovecot.key'), role: 'key', content: 'key', mode: KEY },
    ],
    selfSigned: [
      { path: join(base, 'dovecot/dovecot.crt'), role: 'certificate', content: 'cert', mode: PUBLIC },
      { path: join(base, 'dovecot/dovecot.key'), role: 'key', content: 'key', mode: KEY },
    ],
  }),
  exim: (base) => ({
    caSigned: [
      { path: join(base, 'exim/myexim.crt'), role: 'certificate', content: 'cert+chain', mode: PUBLIC },
      { path: join(base, 'exim/myexim.key'), role: 'key', content: 'key', mode: KEY },
    ],
    selfSigned: [
      { path: join(base, 'exim/exim.crt'), role: 'certificate', content: 'cert', mode: PUBLIC },
      { path: join(base, 'exim/exim.key'), role: 'key', content: 'key', mode: KEY },
    ],
  }),
  // Pure-FTPd reads one combined file whichever kind of certificate it holds.
  ftp: (base) => {
    const pem = [{ path: join(base, 'ftp/pure-ftpd.pem'), role: 'combined' as const, content: 'key+cert+chain' as const, mode: KEY }];
    return { caSigned: pem, selfSigned: pem };
  },
};
