import { completeConfig } from '@certsmith/core';
import { describe, expect, it } from 'vitest';
import { PROFILES } from './profiles.js';

describe('the CLI profiles', () => {
  it('gives a full server its mail and FTP services and HTTP DCV', () => {
    const config = completeConfig({ hostname: 'host.example.com' }, '/c.json', PROFILES);
    expect(Object.keys(config.services)).toEqual(['cpanel', 'dovecot', 'exim', 'ftp']);
    expect(config.dcv.method).toBe('http');
    expect(config.plugins.map((p) => p.module)).toContain('@certsmith/dcv-http');
    expect(config.issuers).toEqual(['selfsigned']);
  });

  it('gives DNS-only servers no mail or FTP service and DNS DCV', () => {
    const config = completeConfig({ profile: 'dnsonly', hostname: 'ns1.example.com' }, '/c.json', PROFILES);
    expect(Object.keys(config.services)).toEqual(['cpanel']);
    expect(config.dcv.method).toBe('dns');
    const modules = config.plugins.map((p) => p.module);
    expect(modules).toContain('@certsmith/dcv-dns');
    expect(modules).not.toContain('@certsmith/installer-dovecot');
  });

  it('names only plugins the program bundles', async () => {
    const { BUILTIN_PLUGINS } = await import('./builtin-plugins.js');
    for (const profile of Object.values(PROFILES)) for (const module of profile.plugins) expect(Object.keys(BUILTIN_PLUGINS)).toContain(module);
  });
});
