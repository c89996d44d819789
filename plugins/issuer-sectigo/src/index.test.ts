import 'reflect-metadata';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus, validateOptions, type Issuer } from '@certsmith/core';
import { AcmeIssuer } from '@certsmith/acme';
import { manifest, SECTIGO_DV_DIRECTORY } from './index.js';

describe('@certsmith/issuer-sectigo', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-sectigo-'));
    await writeFile(join(dir, 'eab.key'), '-x5PjNdQ2mYzq3Lk0wFhT8aBcDeFgHiJkLmNoPqRsTu\n', { mode: 0o600 });
    await writeFile(join(dir, 'open.key'), 'x5PjNdQ2mYzq3Lk0wFhT8aBcDeFgHiJkLmNoPqRsTu\n');
    await chmod(join(dir, 'open.key'), 0o644);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (options: Record<string, unknown>): Promise<Issuer> => {
    validateOptions(manifest.optionsSchema!, options, 'test');
    const config = completeConfig({ hostname: 'host.example.test', paths: { stateDir: dir } }, join(dir, 'config.json'));
    // As the CLI loads it: its module in a child of a container holding the core services.
    const root = new Container();
    root.bind(TOKENS.Config).toConstantValue(config);
    const contributes = await contributionsOf(manifest, options, config, root, createBus());
    return contributes.issuers[0]!;
  };

  it("is Sectigo's DV directory with EAB, long waits and /Sectigo/ issuer names; a key beginning with '-' is fine", async () => {
    const issuer = await load({ eab: { kid: 'kid-1', keyFile: 'eab.key' } });
    expect(issuer).toBeInstanceOf(AcmeIssuer);
    const acme = issuer as AcmeIssuer;
    expect(acme.id).toBe('sectigo');
    expect(acme.options.directoryUrl).toBe(SECTIGO_DV_DIRECTORY);
    expect(acme.options.eab?.hmacKey.startsWith('-')).toBe(true);
    expect(acme.options.maxWaitMs).toBe(120_000);
    expect(acme.issuerPatterns.some((p) => p.test('CN=Sectigo RSA Domain Validation Secure Server CA'))).toBe(true);
    expect(acme.trusted).toBe(true);
    expect(acme.precheck).toBe('http');
    expect(acme.caaIdentities).toEqual(['sectigo.com', 'comodoca.com', 'comodo.com', 'usertrust.com', 'trust-provider.com']);
    // cPanel's rule for Sectigo: the first address decides; an administrator who knows better may say 'ipv6'.
    expect(acme.addressPreference).toBe('first');
    expect(((await load({ eab: { kid: 'kid-1', keyFile: 'eab.key' }, addressPreference: 'ipv6' })) as AcmeIssuer).addressPreference).toBe('ipv6');
  });

  it('requires EAB, and refuses a key file others can read, naming the file and not the key', async () => {
    expect(() => validateOptions(manifest.optionsSchema!, {}, 'cfg')).toThrow(/missing required field "eab"/);
    const error = (await load({ eab: { kid: 'kid-1', keyFile: 'open.key' } }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(join(dir, 'open.key'));
    expect(error.message).toContain('chmod 600');
    expect(error.message).not.toContain('x5PjNdQ2');
  });
});
