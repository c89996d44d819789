import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus, definePlugin, type IssueContext } from '@certsmith/core';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { labDir, randomLoopback, startIssuingAcmeDouble, type IssuingAcmeDouble } from '@certsmith/testlab';
import { ariCertIdOf } from './ari.js';
import { AcmeClient } from './client.js';
import { AcmeIssuer, type AcmeIssuerOptions } from './issuer.js';
import { AccountKey } from './jws.js';
import { ACME_OPTIONS_SCHEMA, acmeIssuerModule, type AcmeCa } from './issuer-module.js';
import { AcmeError } from './problem.js';
import { AcmeTransport } from './transport.js';

// ACME profiles against the testlab's issuing ACME double (Pebble 2.4 has none): pre-validated names, so the
// order flow goes straight to finalization.
const PROFILES = {
  classic: { lifetimeHours: 2160 },
  tlsserver: { lifetimeHours: 2160, emptySubject: true },
};

let double: IssuingAcmeDouble;
let tmp: Awaited<ReturnType<typeof labDir>>;

beforeAll(async () => {
  [double, tmp] = await Promise.all([startIssuingAcmeDouble({ profiles: PROFILES, defaultProfile: 'classic' }), labDir('acme-profiles-test')]);
});

afterAll(async () => {
  await double?.stop();
  await tmp?.cleanup();
});

const signal = () => AbortSignal.timeout(20_000);
const issuer = (extra: Partial<AcmeIssuerOptions> = {}) =>
  new AcmeIssuer({
    id: 'acme',
    directoryUrl: double.directoryUrl,
    caPem: double.tlsCaPem,
    issuerPatterns: [],
    accountKeyType: 'ES256',
    challengeTypes: ['http-01'],
    maxWaitMs: 10_000,
    pollStartMs: 50,
    precheck: 'http',
    ...extra,
  });

describe('ACME profiles', () => {
  it('the client reads the offered profiles, orders under one and keeps the profile the CA echoes; an unknown one is ACME_INVALID_PROFILE', async () => {
    const client = new AcmeClient(double.directoryUrl, new AcmeTransport({ caPem: double.tlsCaPem }));
    try {
      expect(Object.keys((await client.directory(signal())).meta?.profiles ?? {})).toEqual(['classic', 'tlsserver']);
      await client.createAccount(await AccountKey.generate(), {}, signal());
      const order = await client.newOrder(['a.profiles.test'], signal(), { profile: 'tlsserver' });
      expect(order.profile).toBe('tlsserver');
      expect(double.orders().at(-1)).toEqual({ identifiers: [{ type: 'dns', value: 'a.profiles.test' }], profile: 'tlsserver' });
      expect((await client.newOrder(['a.profiles.test'], signal())).profile).toBe('classic');
      expect(double.orders().at(-1)).not.toHaveProperty('profile');
      const refused = (await client.newOrder(['a.profiles.test'], signal(), { profile: 'forever' }).catch((e: unknown) => e)) as AcmeError;
      expect(refused).toBeInstanceOf(AcmeError);
      expect(refused.code).toBe('ACME_INVALID_PROFILE');
    } finally {
      await client.transport.close();
    }
  });

  it("the issuer orders under its profile and says which one issued; the certificate has an empty subject and the double's ARI id", async () => {
    const names = ['b.profiles.test', 'www.b.profiles.test'];
    const ctx: IssueContext = { bus: createBus(), dcv: [], clock: { now: () => new Date() }, signal: signal(), stateDir: join(tmp.path, 'state-issue') };
    const csr = await new WebCryptoCsrFactory().create(names, { type: 'ecdsa-p256' });
    const result = await issuer({ profile: 'tlsserver' }).issue({ target: { id: 'b', names, services: [], kind: 'hostname' }, names, csr }, ctx);
    expect(result.status).toBe('issued');
    if (result.status !== 'issued') return;
    expect(result.profile).toBe('tlsserver');
    expect(double.orders().at(-1)!.profile).toBe('tlsserver');
    const issued = double.issued().at(-1)!;
    expect(issued.pem).toBe(result.certificatePem);
    expect(ariCertIdOf(result.certificatePem)).toBe(issued.certId);
  });

  it('an issuer whose profile was not checked at load time checks it before ordering, and orders nothing under a profile the CA lacks', async () => {
    const names = ['c.profiles.test'];
    const ctx: IssueContext = { bus: createBus(), dcv: [], clock: { now: () => new Date() }, signal: signal(), stateDir: join(tmp.path, 'state-lazy') };
    const csr = await new WebCryptoCsrFactory().create(names, { type: 'ecdsa-p256' });
    const orders = double.orderCount();
    const error = (await issuer({ profile: 'shortlived' })
      .issue({ target: { id: 'c', names, services: [], kind: 'hostname' }, names, csr }, ctx)
      .catch((e: unknown) => e)) as AcmeError;
    expect(error.code).toBe('ACME_PROFILE_NOT_OFFERED');
    expect(error.message).toContain('offers no profile "shortlived" (it offers: classic, tlsserver)');
    expect(double.orderCount()).toBe(orders);
  });

  it('profileRefusal names the profiles the CA offers, or says it offers none', async () => {
    expect(await issuer({ profile: 'tlsserver' }).profileRefusal(signal())).toBeNull();
    expect(await issuer().profileRefusal(signal())).toBeNull();
    expect(await issuer({ profile: 'shortlived' }).profileRefusal(signal())).toBe(
      `the CA at ${double.directoryUrl} offers no profile "shortlived" (it offers: classic, tlsserver)`,
    );
    const bare = await startIssuingAcmeDouble();
    try {
      expect(await issuer({ directoryUrl: bare.directoryUrl, caPem: bare.tlsCaPem, profile: 'tlsserver' }).profileRefusal(signal())).toBe(
        `the CA at ${bare.directoryUrl} offers no profile "tlsserver" (it offers no profiles at all)`,
      );
    } finally {
      await bare.stop();
    }
  });

  it('loading the plugin with a profile the CA lacks is a usage error naming the option; with the CA unreachable, loading goes on', async () => {
    const ca: AcmeCa = {
      id: 'acme',
      eabRequired: false,
      issuerPatterns: [],
      caaIdentities: () => [],
      maxWaitSeconds: 1,
      pollMaxMs: 100,
      addressPreference: 'ipv6',
    };
    const manifest = definePlugin({
      name: '@certsmith/issuer-acme',
      apiVersion: 1,
      optionsSchema: ACME_OPTIONS_SCHEMA,
      module: (options, { where }) => acmeIssuerModule(ca, options, where),
    });
    const file = join(tmp.path, 'config.json');
    await writeFile(join(tmp.path, 'ca.pem'), double.tlsCaPem);
    const load = async (options: Record<string, unknown>) => {
      await writeFile(file, JSON.stringify({ plugins: ['@certsmith/dcv-http', { module: '@certsmith/issuer-acme', options }] }));
      const config = completeConfig({ hostname: 'host.profiles.test', paths: { stateDir: join(tmp.path, 'state') } }, file);
      const root = new Container();
      root.bind(TOKENS.Config).toConstantValue(config);
      // loadPlugins tells the plugin where its options are in the config.
      return contributionsOf(manifest, options, config, root, createBus(), `${file}: $.plugins[1].options`);
    };
    const orders = double.orderCount();
    await expect(load({ directoryUrl: double.directoryUrl, caFile: 'ca.pem', profile: 'shortlived' })).rejects.toThrow(
      `${file}: $.plugins[1].options.profile: the CA at ${double.directoryUrl} offers no profile "shortlived" (it offers: classic, tlsserver)`,
    );
    expect(double.orderCount()).toBe(orders);
    const loaded = await load({ directoryUrl: double.directoryUrl, caFile: 'ca.pem', profile: 'tlsserver' });
    expect((loaded.issuers[0] as AcmeIssuer).options.profile).toBe('tlsserver');
    const down = await load({ directoryUrl: `https://${randomLoopback()}:9/dir`, profile: 'tlsserver' });
    expect(down.issuers).toHaveLength(1);
  });
});
