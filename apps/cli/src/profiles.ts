import type { Profiles } from '@certsmith/core';

// notify-email with no transport configured writes its notices to the outbox in the state directory.
// scheduler-at makes --allow-retry work out of the box (cPanel queues its retry with at too).
const common = ['@certsmith/issuer-selfsigned', '@certsmith/installer-cpanel', '@certsmith/notify-email', '@certsmith/scheduler-at'];

/** The two kinds of cPanel server, as this program composes them. */
export const PROFILES: Profiles = {
  full: {
    services: { cpanel: {}, dovecot: {}, exim: {}, ftp: {} },
    plugins: [...common, '@certsmith/installer-dovecot', '@certsmith/installer-exim', '@certsmith/installer-ftp', '@certsmith/dcv-http'],
    issuers: ['selfsigned'],
    dcvMethod: 'http',
  },
  dnsonly: {
    // DNS-only servers have no mail or FTP service (docs/domain-facts.md#service-files).
    services: { cpanel: {} },
    plugins: [...common, '@certsmith/dcv-dns'],
    issuers: ['selfsigned'],
    dcvMethod: 'dns',
  },
};
