import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus, validateOptions } from '@certsmith/core';
import type { AcmeIssuer } from '@certsmith/acme';
import { manifest } from './index.js';

describe('@certsmith/issuer-acme', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-issuer-acme-'));
    await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await writeFile(join(dir, 'not-a-ca.pem'), 'hello');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (options: Record<string, unknown>, profile: 'full' | 'dnsonly' = 'full'): Promise<AcmeIssuer> => {
    validateOptions(manifest.optionsSchema!, options, 'test');
    const config = completeConfig({ profile, hostname: 'host.example.test', paths: { stateDir: dir } }, join(dir, 'config.json'));
    // As the CLI loads it: its module in a child of a container holding the core services.
    const root = new Container();
    root.bind(TOKENS.Config).toConstantValue(config);
    const contributes = await contributionsOf(manifest, options, config, root, createBus());
    return contributes.issuers[0] as AcmeIssuer;
  };

  it("takes any directory, a CA file for a private CA, contact, preferred chain and the profile's challenge type", async () => {
    const issuer = await load({
      directoryUrl: 'https://127.0.0.9:14000/dir',
      caFile: 'ca.pem',
      contact: ['admin@example.test'],
      preferredChain: 'Pebble Root CA',
      id: 'pebble',
    });
    expect(issuer.id).toBe('pebble');
    expect(issuer.options.caPem).toContain('BEGIN CERTIFICATE');
    expect(issuer.options.contact).toEqual(['mailto:admin@example.test']);
    expect(issuer.options.challengeTypes).toEqual(['http-01', 'dns-01']);
    expect(issuer.precheck).toBe('http');
    const dns = await load({ directoryUrl: 'https://127.0.0.9:14000/dir' }, 'dnsonly');
    expect(dns.options.challengeTypes).toEqual(['dns-01']);
    expect(dns.precheck).toBe('dns');
  });

  it('prefers dns-persist-01 when told: a DNS pre-check that proves the standing record for its CAA identities and account', async () => {
    const persist = await load(
      { directoryUrl: 'https://127.0.0.9:14000/dir', challengeTypes: ['dns-persist-01', 'dns-01'], caaIdentities: ['ca.test'] },
      'dnsonly',
    );
    expect(persist.options.challengeTypes).toEqual(['dns-persist-01', 'dns-01']);
    expect(persist.precheck).toBe('dns');
    // No account registered yet: a record of this CA can only be another account's.
    expect(await persist.standingRecord(join(dir, 'no-account'))).toEqual({ issuerDomainNames: ['ca.test'], accountUri: null });
    // Without the CA's issuer domain names the pre-check cannot judge a record; without the preference it does not ask.
    const unnamed = await load({ directoryUrl: 'https://127.0.0.9:14000/dir', challengeTypes: ['dns-persist-01'] }, 'dnsonly');
    expect(await unnamed.standingRecord(dir)).toBeNull();
    expect(await (await load({ directoryUrl: 'https://127.0.0.9:14000/dir', caaIdentities: ['ca.test'] }, 'dnsonly')).standingRecord(dir)).toBeNull();
    expect(() => validateOptions(manifest.optionsSchema!, { directoryUrl: 'https://ca.test/dir', challengeTypes: ['dns-persist-02'] }, 'cfg')).toThrow(
      /challengeTypes/,
    );
  });

  it('CAA identities: from the option, derived for a well-known directory, none for an unknown one', async () => {
    expect((await load({ directoryUrl: 'https://127.0.0.9:14000/dir' })).caaIdentities).toEqual([]);
    expect((await load({ directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' })).caaIdentities).toEqual(['letsencrypt.org']);
    expect((await load({ directoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory' })).caaIdentities).toEqual(['letsencrypt.org']);
    expect((await load({ directoryUrl: 'https://127.0.0.9:14000/dir', caaIdentities: ['Pebble.Test'] })).caaIdentities).toEqual(['Pebble.Test']);
    // [] turns the check off even where a default is known.
    expect((await load({ directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory', caaIdentities: [] })).caaIdentities).toEqual([]);
    expect(() => validateOptions(manifest.optionsSchema!, { directoryUrl: 'https://ca.test/dir', caaIdentities: ['not a name'] }, 'cfg')).toThrow(
      /caaIdentities/,
    );
  });

  it('prefers IPv6 (the AAAA address decides) unless told otherwise, and refuses another value', async () => {
    expect((await load({ directoryUrl: 'https://127.0.0.9:14000/dir' })).addressPreference).toBe('ipv6');
    expect((await load({ directoryUrl: 'https://127.0.0.9:14000/dir', addressPreference: 'first' })).addressPreference).toBe('first');
    expect((await load({ directoryUrl: 'https://127.0.0.9:14000/dir', addressPreference: 'ipv6-then-ipv4' })).addressPreference).toBe('ipv6-then-ipv4');
    expect(() => validateOptions(manifest.optionsSchema!, { directoryUrl: 'https://ca.test/dir', addressPreference: 'ipv4' }, 'cfg')).toThrow(
      /addressPreference/,
    );
  });

  it('refuses a missing or non-https directory and a CA file that is not PEM', async () => {
    expect(() => validateOptions(manifest.optionsSchema!, {}, 'cfg')).toThrow(/directoryUrl/);
    expect(() => validateOptions(manifest.optionsSchema!, { directoryUrl: 'http://ca/dir' }, 'cfg')).toThrow(/directoryUrl/);
    await expect(load({ directoryUrl: 'https://ca.test/dir', caFile: 'not-a-ca.pem' })).rejects.toThrow(/not-a-ca.pem holds no PEM/);
    await expect(load({ directoryUrl: 'https://ca.test/dir', caFile: 'missing.pem' })).rejects.toThrow(/missing.pem cannot be read/);
  });
});
