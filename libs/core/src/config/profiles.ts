/** What each kind of server gets before its config file overrides anything. */
export interface Profile {
  services: Record<string, Record<string, unknown>>;
  plugins: string[];
  issuers: string[];
  dcvMethod: 'http' | 'dns';
}

const common = ['@certsmith/issuer-selfsigned', '@certsmith/installer-cpanel'];

export const PROFILES: Record<'full' | 'dnsonly', Profile> = {
  full: {
    services: { cpanel: {}, dovecot: {}, exim: {}, ftp: {} },
    plugins: [...common, '@certsmith/installer-dovecot', '@certsmith/installer-exim', '@certsmith/installer-ftp'],
    issuers: ['selfsigned'],
    dcvMethod: 'http',
  },
  dnsonly: {
    // DNS-only servers have no mail or FTP service (DOMAIN.md).
    services: { cpanel: {} },
    plugins: [...common],
    issuers: ['selfsigned'],
    dcvMethod: 'dns',
  },
};
