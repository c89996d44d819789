// The pipeline and the CA's rate limits, every plugin faked: a limit is recorded, later runs do not ask, a valid
// certificate is never swapped for a self-signed one because of it, and the renewal names what it replaces.
import { mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { completeConfig } from './config/config.js';
import type { CsrFactory, Inspection, Inspector, Installer, Issuer, IssueRequest, Scheduler, RetryJob } from './contracts.js';
import { createBus, type FailedEvent } from './events.js';
import type { CertificateSummary, Defect, Target } from './model.js';
import { Pipeline } from './pipeline.js';
import { RateLimitedError } from './rate-limits.js';
import { RunReportCollector } from './report.js';

const NOW = new Date('2026-11-25T06:00:00Z');
const PEM = '-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----';
const almostExpired: Defect = { code: 'ALMOST_EXPIRED', message: 'the certificate expires in 10.00 days', severity: 'upgrade' };
const noSsl: Defect = { code: 'NO_SSL', message: 'No SSL certificate is installed.', severity: 'replace' };

const summary = (fingerprint: string, issuer = 'CN=Lab Provider CA'): CertificateSummary => ({
  subject: 'CN=www.a.test',
  commonName: 'www.a.test',
  issuer,
  serial: '01',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-12-05T00:00:00.000Z',
  names: ['www.a.test'],
  hasSan: true,
  key: 'EC P-256',
  signatureAlgorithm: 'ecdsa-with-SHA256',
  fingerprint,
  selfSigned: false,
  extendedKeyUsage: ['serverAuth'],
});

const shop: Target = { id: 'shop', names: ['www.a.test', 'a.test'], services: ['files'], kind: 'site' };
const blog: Target = { id: 'blog', names: ['blog.b.test'], services: ['files'], kind: 'site' };

/** Targets whose files hold a certificate: shop (from the provider, near expiry); blog has none. */
const inspector: Inspector = {
  async inspect(_material, ctx): Promise<Inspection> {
    const has = ctx.target.id === 'shop';
    return { files: [], live: [], summary: has ? summary('OLD') : null, chain: [], defects: [has ? almostExpired : noSsl], providerIssued: has };
  },
  summarize: (pem) => summary(pem),
  verifyIssued: () => [],
};
const csrFactory: CsrFactory = {
  create: async () => ({ keys: {} as never, keyPem: 'KEY', csrDer: new Uint8Array(), csrPem: 'CSR', spec: { type: 'ecdsa-p256' } }),
};

function files(): Installer & { installed: Record<string, string[]> } {
  const self = {
    service: 'files',
    installed: {} as Record<string, string[]>,
    endpoints: () => [],
    read: async (t: Target) => ({
      service: 'files',
      sources: t.id === 'shop' ? [{ path: '/ssl/shop/fullchain.pem', role: 'certificate' as const, bytes: new TextEncoder().encode(`${PEM}\n`) }] : [],
      endpoints: [],
    }),
    install: async (t: Target, m: { summary: CertificateSummary }) => {
      (self.installed[t.id] ??= []).push(m.summary.fingerprint);
      return { service: 'files', target: t.id, files: [], reloaded: false, fingerprint: m.summary.fingerprint, dryRun: false, handle: null };
    },
    prove: async () => ({ ok: true, observations: [] }),
    rollback: async () => undefined,
  };
  return self;
}

function ca(
  behaviour: (request: IssueRequest) => Promise<never | { status: 'issued'; certificatePem: string; chainPem: string[] }>,
  id = 'sectigo',
  patterns = [/Lab Provider CA/],
): Issuer & { requests: IssueRequest[] } {
  const requests: IssueRequest[] = [];
  return {
    id,
    trusted: true,
    precheck: 'none',
    issuerPatterns: patterns,
    requests,
    issue: async (request) => {
      requests.push(request);
      return behaviour(request);
    },
  };
}
const selfSigned: Issuer = {
  id: 'selfsigned',
  trusted: false,
  precheck: 'none',
  issuerPatterns: [],
  issue: async () => ({ status: 'issued', certificatePem: 'SELF', chainPem: [] }),
};

const rateLimited =
  (retryAfter?: Date, scope: 'names' | 'account' = 'names') =>
  async (): Promise<never> => {
    throw new RateLimitedError('ACME_RATE_LIMITED', 'the CA said: too many certificates (5) already issued for this exact set of identifiers', {
      scope,
      names: [],
      retryAfter,
      kind: 'rateLimited',
      detail: 'too many certificates (5) already issued for this exact set of identifiers',
    });
  };

async function runOnce(stateDir: string, issuers: Issuer[], targets: Target[], extra: { scheduler?: Scheduler; allowRetry?: boolean } = {}) {
  const bus = createBus();
  const failures: FailedEvent[] = [];
  bus.on('failed', (e) => failures.push(e));
  const report = new RunReportCollector(bus);
  const installer = files();
  const config = completeConfig({ hostname: 'host.example.test', issuers: issuers.map((i) => i.id), paths: { stateDir } }, '/etc/certsmith/config.json');
  const pipeline = new Pipeline({
    config,
    bus,
    report,
    csrFactory,
    inspector,
    issuers,
    installers: [installer],
    dcv: [],
    scheduler: extra.scheduler,
    switches: { noHostnameCertificate: false, noServiceManagement: false },
    clock: { now: () => NOW },
  });
  await pipeline.run(targets, {
    dryRun: false,
    allowRetry: extra.allowRetry ?? false,
    retryCommand: ['certsmith'],
    concurrency: 2,
    signal: new AbortController().signal,
  });
  return { report: report.finish({ hostname: 'h', startedAt: NOW, finishedAt: NOW, dryRun: false }), failures, installed: installer.installed };
}

describe('Pipeline and rate limits', () => {
  it('a rate limit on a renewal is a warning: the valid certificate stays (no self-signed), the limit is recorded, the next run does not ask', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-rl-'));
    const sectigo = ca(rateLimited(new Date('2026-11-25T09:00:00Z')));
    const first = await runOnce(stateDir, [sectigo, selfSigned], [shop]);
    expect(first.report.targets[0]!.result).toBe('kept');
    expect(first.report.exitCode).toBe(0);
    expect(first.installed).toEqual({});
    expect(first.failures).toEqual([
      expect.objectContaining({
        code: 'ACME_RATE_LIMITED',
        severity: 'warning',
        until: '2026-11-25T09:00:00Z',
        next: 'keep the current certificate',
        message:
          'the CA said: too many certificates (5) already issued for this exact set of identifiers; not asking "sectigo" for www.a.test, a.test again until 2026-11-25T09:00:00Z',
      }),
    ]);
    const ledger = JSON.parse(await readFile(join(stateDir, 'rate-limits.json'), 'utf8')) as { entries: { issuer: string; name: string }[] };
    expect(ledger.entries.map((e) => `${e.issuer}:${e.name}`)).toEqual(['sectigo:www.a.test', 'sectigo:a.test']);

    const again = ca(rateLimited());
    const second = await runOnce(stateDir, [again, selfSigned], [shop]);
    expect(again.requests).toEqual([]);
    expect(second.report.targets[0]!.result).toBe('kept');
    expect(second.failures).toEqual([
      expect.objectContaining({
        code: 'RATE_LIMITED',
        severity: 'warning',
        until: '2026-11-25T09:00:00Z',
        message:
          'not asking "sectigo" for www.a.test, a.test until 2026-11-25T09:00:00Z (rateLimited: too many certificates (5) already issued for this exact set of identifiers)',
      }),
    ]);
    expect(second.installed).toEqual({});
  });

  it('a target with no certificate still gets the self-signed stopgap while its CA is held back (account-wide)', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-rl-'));
    await runOnce(stateDir, [ca(rateLimited(undefined, 'account')), selfSigned], [shop]);
    const sectigo = ca(rateLimited());
    const run = await runOnce(stateDir, [sectigo, selfSigned], [shop, blog]);
    expect(sectigo.requests).toEqual([]);
    expect(run.report.targets.map((t) => t.result)).toEqual(['kept', 'replaced']);
    expect(run.installed).toEqual({ blog: [summary('SELF').fingerprint] });
    // Targets run concurrently: the order of their events is not part of the contract.
    const held = run.failures.filter((f) => f.code === 'RATE_LIMITED').sort((a, b) => (a.target ?? '').localeCompare(b.target ?? ''));
    expect(held.map((f) => [f.target, f.severity, f.next])).toEqual([
      ['blog', 'warning', 'try issuer "selfsigned"'],
      ['shop', 'warning', 'keep the current certificate'],
    ]);
    expect(held[1]!.message).toMatch(/^not asking "sectigo" for anything \(account-wide limit\) until 2026-11-25T09:00:00Z \(rateLimited: /);
  });

  it('a Retry-After absurdly far is capped at 7 days, one in the past floored at a minute, and the message says so', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-rl-'));
    const far = await runOnce(stateDir, [ca(rateLimited(new Date('2099-01-01T00:00:00Z')))], [shop]);
    expect(far.failures[0]).toMatchObject({ until: '2026-12-02T06:00:00Z' });
    expect(far.failures[0]!.message).toContain("(the CA's Retry-After (2099-01-01T00:00:00Z) is beyond the 7-day cap)");
    const other = mkdtempSync(join(tmpdir(), 'certsmith-rl-'));
    const past = await runOnce(other, [ca(rateLimited(new Date('2020-01-01T00:00:00Z')))], [shop]);
    expect(past.failures[0]).toMatchObject({ until: '2026-11-25T06:01:00Z' });
  });

  it('a ledger edited into nonsense: one warning naming the file, and the run goes on for every target', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-rl-'));
    await writeFile(join(stateDir, 'rate-limits.json'), 'this is not { json');
    const sectigo = ca(async () => ({ status: 'issued', certificatePem: 'NEW', chainPem: [] }));
    const run = await runOnce(stateDir, [sectigo, selfSigned], [shop, blog]);
    expect(run.report.targets.map((t) => t.result)).toEqual(['replaced', 'replaced']);
    const invalid = run.failures.filter((f) => f.code === 'RATE_LIMIT_LEDGER_INVALID');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.message).toContain(`${join(stateDir, 'rate-limits.json')}: not valid JSON`);
    expect(invalid[0]!.severity).toBe('warning');
    expect(sectigo.requests).toHaveLength(2);
  });

  it('a renewal passes the certificate it replaces to the issuer that issued it, and only to that one', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-rl-'));
    const other = ca(rateLimited(), 'other-ca', [/Another CA/]);
    const sectigo = ca(async () => ({ status: 'issued', certificatePem: 'NEW', chainPem: [] }));
    const run = await runOnce(stateDir, [other, sectigo], [shop, blog]);
    expect(run.report.targets.map((t) => t.result)).toEqual(['replaced', 'replaced']);
    expect(other.requests.map((r) => r.replaces)).toEqual([undefined, undefined]);
    expect(Object.fromEntries(sectigo.requests.map((r) => [r.target.id, r.replaces]))).toEqual({ shop: `${PEM}\n`, blog: undefined });
    expect(sectigo.requests).toHaveLength(2);
  });

  it('--allow-retry schedules the retry no earlier than the CA said', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-rl-'));
    const jobs: RetryJob[] = [];
    const scheduler: Scheduler = {
      id: 'fake',
      list: async () => [],
      cancel: async () => undefined,
      schedule: async (job) => {
        jobs.push(job);
        return { id: '1', tag: job.tag, runAt: 'later' };
      },
    };
    await runOnce(stateDir, [ca(rateLimited(new Date('2026-11-25T09:00:00Z')))], [shop], { scheduler, allowRetry: true });
    expect(jobs.map((j) => j.delayMinutes)).toEqual([180]);
  });
});
