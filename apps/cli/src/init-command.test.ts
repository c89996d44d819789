import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { completeConfig } from '@certsmith/core';
import { labDir } from '@certsmith/testlab';
import { detectProfile, startingConfig } from './init-command.js';
import { PROFILES } from './profiles.js';

let dir: { path: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  dir = await labDir('init-unit');
});
afterEach(async () => {
  await dir.cleanup();
});

describe('detectProfile', () => {
  it("is dnsonly when cPanel's DNS-only marker exists, else full", async () => {
    const marker = join(dir.path, 'dnsonly');
    expect(detectProfile(marker)).toBe('full');
    await writeFile(marker, '');
    expect(detectProfile(marker)).toBe('dnsonly');
  });
});

describe('startingConfig', () => {
  it.each(['full', 'dnsonly'] as const)('for %s passes the schema, $comment members and all, and keeps the profile', (profile) => {
    const config = completeConfig(JSON.parse(JSON.stringify(startingConfig(profile, 'host.example.com'))), join(dir.path, 'config.json'), PROFILES);
    expect(config.profile).toBe(profile);
    expect(config.hostname).toBe('host.example.com');
    expect(config.paths.stateDir).toBe('/var/lib/certsmith');
    expect(Object.keys(config.services).sort()).toEqual(profile === 'full' ? ['cpanel', 'dovecot', 'exim', 'ftp'] : ['cpanel']);
    expect(config.dcv.method).toBe(profile === 'full' ? 'http' : 'dns');
  });

  it('points a DNS-only server at dns-persist-01, and a full one not', () => {
    const dcvComment = (profile: 'full' | 'dnsonly') => ((startingConfig(profile, 'host.example.com').dcv as Record<string, unknown>).$comment as string) ?? '';
    expect(dcvComment('dnsonly')).toContain('"challengeTypes": ["dns-persist-01", "dns-01"]');
    expect(dcvComment('full')).not.toContain('dns-persist-01');
  });

  it('explains each top-level field in its $comment', () => {
    const written = startingConfig('full', 'host.example.com');
    const comment = (written.$comment as string[]).join('\n');
    for (const field of Object.keys(written).filter((k) => !k.startsWith('$') && !['paths', 'inspection', 'key', 'dcv', 'retry', 'log'].includes(k))) {
      expect(comment, field).toContain(`${field}:`);
    }
    for (const section of ['paths', 'inspection', 'key', 'dcv', 'retry', 'log']) {
      expect((written[section] as Record<string, unknown>).$comment, section).toEqual(expect.any(String));
    }
  });
});
