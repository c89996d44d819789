import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ServiceMaterial } from '@certsmith/core';
import { createSelfSigned } from '@certsmith/x509';
import { serviceStatus } from './status.js';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00Z');
const policy = (caConfigured = false, provider = false) => ({
  caConfigured,
  providerIssued: () => provider,
  thresholds: { providerThresholdDays: 25, otherThresholdDays: 3 },
});

async function material(names: string[], issuedDaysAgo: number, validityDays: number): Promise<ServiceMaterial> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pem = await createSelfSigned({ names, keys, spec: { type: 'ecdsa-p256' }, validityDays, now: new Date(NOW.getTime() - issuedDaysAgo * DAY) });
  return { service: 'web', endpoints: [], sources: [{ path: '/ssl/cert.pem', role: 'certificate', bytes: new TextEncoder().encode(pem) }] };
}

describe('the status of one service certificate', () => {
  it('a fresh certificate: issuer, days left, not due, with the rule and when it will be', async () => {
    const status = serviceStatus(await material(['a.test', 'www.a.test'], 10, 90), { names: ['a.test', 'www.a.test'] }, NOW, policy());
    expect(status.certificate).toMatchObject({ names: ['a.test', 'www.a.test'], selfSigned: true });
    expect(status.certificate!.issuer).toContain('CN=a.test');
    expect([79, 80]).toContain(status.daysLeft);
    expect(status.renewal).toMatchObject({ due: false, rule: 'threshold', reason: 'the 3-day threshold for other certificates' });
    expect(status.missingNames).toEqual([]);
    expect(status.file).toBe('/ssl/cert.pem');
  });

  // (Self-signed here for brevity: with no CA configured that alone does not make it due.)
  it('a provider certificate is due by the lifetime rule or the provider threshold, as check decides', async () => {
    const status = serviceStatus(await material(['a.test'], 40, 60), { names: ['a.test'] }, NOW, policy(false, true));
    expect(status.renewal).toMatchObject({ due: true, rule: 'threshold', reason: 'the 25-day threshold for certificates from the configured provider' });
    const long = serviceStatus(await material(['a.test'], 10, 90), { names: ['a.test'] }, NOW, policy(false, true));
    expect(long.renewal).toMatchObject({ due: false, rule: 'lifetime' });
    expect(long.renewal.reason).toMatch(/^a third of its 90(\.0)?-day lifetime$/);
    const short = serviceStatus(await material(['a.test'], 3, 6), { names: ['a.test'] }, NOW, policy(false, true));
    expect(short.renewal).toMatchObject({ due: true, rule: 'lifetime' });
    expect(short.renewal.reason).toMatch(/^half of its 6(\.0)?-day lifetime$/);
  });

  it('expired, self-signed while a CA is configured, names not covered', async () => {
    expect(serviceStatus(await material(['a.test'], 100, 90), { names: ['a.test'] }, NOW, policy()).renewal).toMatchObject({ due: true, rule: 'expired' });
    const upgrade = serviceStatus(await material(['a.test'], 1, 90), { names: ['a.test', 'b.test'] }, NOW, policy(true));
    expect(upgrade.renewal).toMatchObject({ due: true, rule: 'self-signed' });
    expect(upgrade.missingNames).toEqual(['b.test']);
  });

  it('no file, an unreadable one, one that is not a certificate, no installer', () => {
    const source = (extra: object): ServiceMaterial => ({
      service: 'web',
      endpoints: [],
      sources: [{ path: '/ssl/cert.pem', role: 'certificate', ...extra } as never],
    });
    expect(serviceStatus(source({ error: 'missing', detail: 'ENOENT' }), { names: ['a.test'] }, NOW, policy()).renewal).toEqual({
      due: true,
      rule: 'missing',
      dueAt: null,
      reason: 'no certificate is installed',
    });
    expect(serviceStatus(source({ error: 'unreadable', detail: 'EACCES' }), { names: ['a.test'] }, NOW, policy()).renewal.reason).toBe('/ssl/cert.pem: EACCES');
    expect(serviceStatus(source({ bytes: new TextEncoder().encode('hello') }), { names: ['a.test'] }, NOW, policy()).renewal.reason).toMatch(
      /^\/ssl\/cert\.pem: not a certificate/,
    );
    expect(serviceStatus('no installer for service "web"', { names: ['a.test'] }, NOW, policy())).toMatchObject({ certificate: null, file: null });
  });
});

describe('collectStatus over a config, its state and an installer', () => {
  it('names the ACME profile of the certificate the last run issued, and only of that one', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { completeConfig, recordLastRun } = await import('@certsmith/core');
    const { collectStatus } = await import('./status.js');
    const dir = await mkdtemp(join(tmpdir(), 'certsmith-status-'));
    try {
      const config = completeConfig(
        {
          hostname: 'host.test',
          paths: { stateDir: './state' },
          services: { cpanel: false, dovecot: false, exim: false, ftp: false },
          targets: [
            { id: 'a', names: ['a.test'] },
            { id: 'b', names: ['b.test'] },
          ],
        },
        join(dir, 'config.json'),
      );
      const materials = { a: await material(['a.test'], 1, 90), b: await material(['b.test'], 1, 90) };
      const installer = { service: 'web', read: async (t: { id: string }) => materials[t.id as 'a' | 'b'] } as never;
      const composition = {
        config,
        clock: { now: () => NOW },
        contributions: { issuers: [], installers: [installer], dcv: [], notifiers: [], schedulers: [], statusSinks: [], fleet: [] },
      };
      const first = await collectStatus(composition, []);
      const a = first.targets.find((t) => t.target === 'a')!.services[0]!.certificate!;
      const issued = {
        target: 'a',
        issuer: 'acme',
        status: 'issued' as const,
        summary: { ...a, fingerprint: 'x' } as never,
        chain: [],
        selfSigned: false,
        profile: 'tlsserver',
      };
      const report = (targets: object[]) => ({
        hostname: 'host.test',
        startedAt: NOW.toISOString(),
        finishedAt: NOW.toISOString(),
        dryRun: false,
        exitCode: 0 as const,
        targets: targets as never,
      });
      const target = (id: string, extra: object) => ({
        target: id,
        names: [],
        result: 'replaced',
        services: [],
        validations: [],
        failures: [],
        actions: [],
        ...extra,
      });
      await recordLastRun(config, report([target('a', { issued }), target('b', { issued: { ...issued, target: 'b' } })]));
      const status = await collectStatus(composition, []);
      expect(status.targets.map((t) => [t.target, t.services[0]?.profile])).toEqual([
        ['hostname', undefined],
        ['a', 'tlsserver'],
        ['b', null],
      ]);
      expect(status.lastRun).toMatchObject({ exitCode: 0, targets: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
