// The pipeline with every plugin faked: what it decides, in which order, and what it tells the bus.
import { mkdtempSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { completeConfig } from './config/config.js';
import type {
  Challenge,
  CsrFactory,
  DcvCheckOptions,
  DcvMethod,
  Inspection,
  Inspector,
  Installer,
  Issuer,
  NameVerdict,
  Published,
  Resolver,
  Scheduler,
} from './contracts.js';
import { CertsmithError } from './errors.js';
import { createBus, type LifecycleEventName } from './events.js';
import type { CertificateSummary, Defect, Target } from './model.js';
import { Pipeline, type RunOptions } from './pipeline.js';
import { RunReportCollector } from './report.js';
import { RunLock } from './run-lock.js';

const summary = (fingerprint: string, names: string[]): CertificateSummary => ({
  subject: `CN=${names[0]}`,
  commonName: names[0]!,
  issuer: 'CN=Fake CA',
  serial: '01',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2027-01-01T00:00:00.000Z',
  names,
  hasSan: true,
  key: 'EC P-256',
  signatureAlgorithm: 'ecdsa-with-SHA256',
  fingerprint,
  selfSigned: false,
  extendedKeyUsage: ['serverAuth'],
});

const target: Target = { id: 'hostname', names: ['host.example.test', 'www.example.test'], services: ['dovecot', 'exim'], kind: 'hostname' };

function inspectorWith(defects: Record<string, Defect[]>, issuedProblems: Defect[] = []): Inspector {
  return {
    async inspect(material): Promise<Inspection> {
      if (material.service === 'explode') throw new Error('boom');
      // A service whose files hold a certificate stands for one from the configured provider (for the ARI test).
      return { files: [], live: [], summary: null, chain: [], defects: [...(defects[material.service] ?? [])], providerIssued: material.sources.length > 0 };
    },
    summarize: (pem) => summary(pem, ['host.example.test']),
    verifyIssued: () => issuedProblems,
  };
}

const csrFactory: CsrFactory = {
  create: vi.fn(async (names: string[]) => ({
    keys: {} as never,
    keyPem: 'KEY',
    csrDer: new Uint8Array(),
    csrPem: `CSR ${names.join(',')}`,
    spec: { type: 'ecdsa-p256' as const },
  })),
};

function issuer(id: string, trusted: boolean, behaviour: Issuer['issue'], precheck: Issuer['precheck'] = 'none'): Issuer & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    id,
    trusted,
    precheck,
    issuerPatterns: [],
    calls,
    issue: async (request, ctx) => {
      calls.push(request.names);
      return behaviour(request, ctx);
    },
  };
}

function installer(service: string, proveOk = true): Installer & { installed: string[]; rolledBack: number } {
  const self = {
    service,
    installed: [] as string[],
    rolledBack: 0,
    endpoints: () => [],
    read: async () => ({ service, sources: [], endpoints: [] }),
    install: async (_t: Target, m: { summary: CertificateSummary }) => {
      self.installed.push(m.summary.fingerprint);
      return { service, target: 'hostname', files: [`/ssl/${service}`], reloaded: false, fingerprint: m.summary.fingerprint, dryRun: false, handle: null };
    },
    prove: async () => (proveOk ? { ok: true, observations: [] } : { ok: false, observations: [], reason: 'old certificate served' }),
    rollback: async () => {
      self.rolledBack++;
    },
  };
  return self;
}

function setup(opts: {
  defects?: Record<string, Defect[]>;
  issuers: Issuer[];
  installers?: Installer[];
  issuersConfig?: string[];
  switches?: { noHostnameCertificate?: boolean; noServiceManagement?: boolean };
  dcv?: DcvMethod[];
  scheduler?: Scheduler;
  issuedProblems?: Defect[];
  config?: Record<string, unknown>;
  stateDir?: string;
  resolver?: Resolver;
}) {
  const bus = createBus();
  const events: [LifecycleEventName, unknown][] = [];
  bus.on('*', (type, e) => events.push([type as LifecycleEventName, e]));
  const report = new RunReportCollector(bus);
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'certsmith-pipeline-'));
  const config = completeConfig(
    { hostname: 'host.example.test', issuers: opts.issuersConfig ?? opts.issuers.map((i) => i.id), paths: { stateDir }, ...opts.config },
    '/etc/certsmith/config.json',
  );
  const pipeline = new Pipeline({
    config,
    bus,
    report,
    csrFactory,
    switches: { noHostnameCertificate: false, noServiceManagement: false, ...opts.switches },
    clock: { now: () => new Date('2026-06-01T00:00:00Z') },
    inspector: inspectorWith(opts.defects ?? {}, opts.issuedProblems),
    issuers: opts.issuers,
    installers: opts.installers ?? [installer('dovecot'), installer('exim')],
    dcv: opts.dcv ?? [],
    scheduler: opts.scheduler,
    resolver: opts.resolver,
  });
  const run = async (t: Target | Target[] = target, extra: Partial<RunOptions> = {}) => {
    await pipeline.run(Array.isArray(t) ? t : [t], {
      dryRun: false,
      allowRetry: false,
      retryCommand: ['certsmith', 'check', '--no-retry'],
      concurrency: 2,
      signal: new AbortController().signal,
      ...extra,
    });
    return report.finish({ hostname: 'host.example.test', startedAt: new Date(), finishedAt: new Date(), dryRun: false });
  };
  const failures = () =>
    events.filter(([t]) => t === 'failed').map(([, e]) => e as { code: string; next: string; severity: string; stage: string; target: string });
  return { run, events, failures, stateDir };
}

const noSsl: Defect = { code: 'NO_SSL', message: 'No SSL certificate is installed.', severity: 'replace' };
const selfSigned: Defect = { code: 'SELF_SIGNED', message: 'self-signed', severity: 'upgrade' };
const ok = (pem: string) => async () => ({ status: 'issued' as const, certificatePem: pem, chainPem: [] });

describe('Pipeline', () => {
  it('stops at inspection when every service is healthy', async () => {
    const ca = issuer('ca', true, ok('CA-CERT'));
    const { run, events } = setup({ issuers: [ca] });
    const report = await run();
    expect(report.targets[0]!.result).toBe('healthy');
    expect(ca.calls).toEqual([]);
    expect(events.map(([t]) => t)).toEqual(['inspect', 'inspect']);
  });

  it('falls down the issuer chain to self-signed and installs where a service needs it', async () => {
    const ca = issuer('ca', true, async () => {
      throw new CertsmithError('CA_UNREACHABLE', 'connection refused by 127.0.0.1:14000');
    });
    const fallback = issuer('selfsigned', false, ok('SELF-CERT'));
    const dovecot = installer('dovecot');
    const exim = installer('exim');
    const { run, failures, events } = setup({ defects: { dovecot: [noSsl] }, issuers: [ca, fallback], installers: [dovecot, exim] });
    const report = await run();
    expect(report.targets[0]!.result).toBe('replaced');
    expect(failures()).toEqual([expect.objectContaining({ stage: 'issue', code: 'CA_UNREACHABLE', next: 'try issuer "selfsigned"', severity: 'warning' })]);
    expect(dovecot.installed).toEqual(['SELF-CERT']);
    expect(exim.installed).toEqual([]);
    expect(events.map(([t]) => t)).toEqual(['inspect', 'inspect', 'failed', 'issued', 'installed']);
  });

  it('the issued event summarizes the chain the CA sent, leaf excluded', async () => {
    const ca = issuer('ca', true, async () => ({ status: 'issued' as const, certificatePem: 'LEAF', chainPem: ['INTERMEDIATE', 'ROOT'] }));
    const { run, events } = setup({ defects: { dovecot: [noSsl] }, issuers: [ca], installers: [installer('dovecot')] });
    await run();
    const issued = events.find(([t]) => t === 'issued')![1] as { chain: { fingerprint: string }[]; summary: { fingerprint: string } };
    expect(issued.chain.map((c) => c.fingerprint)).toEqual([summary('INTERMEDIATE', []).fingerprint, summary('ROOT', []).fingerprint]);
    expect(issued.summary.fingerprint).toBe(summary('LEAF', []).fingerprint);
  });

  it('never replaces a self-signed certificate by another when the CA path fails (no churn)', async () => {
    const ca = issuer('ca', true, async () => {
      throw new CertsmithError('EAB_REJECTED', 'the CA rejected the external account binding');
    });
    const fallback = issuer('selfsigned', false, ok('SELF-CERT'));
    const dovecot = installer('dovecot');
    const { run } = setup({ defects: { dovecot: [selfSigned] }, issuers: [ca, fallback], installers: [dovecot, installer('exim')] });
    const report = await run();
    expect(report.targets[0]!.result).toBe('kept');
    expect(fallback.calls).toEqual([]);
    expect(dovecot.installed).toEqual([]);
  });

  it('offers a self-signed certificate to the CA and installs what the CA issues', async () => {
    const ca = issuer('ca', true, ok('CA-CERT'));
    const dovecot = installer('dovecot');
    const { run } = setup({
      defects: { dovecot: [selfSigned] },
      issuers: [ca, issuer('selfsigned', false, ok('SELF'))],
      installers: [dovecot, installer('exim')],
    });
    expect((await run()).targets[0]!.result).toBe('replaced');
    expect(dovecot.installed).toEqual(['CA-CERT']);
  });

  it('skips CA issuers for the hostname when disable_auto_hostname_certificate is set', async () => {
    const ca = issuer('ca', true, ok('CA-CERT'));
    const dovecot = installer('dovecot');
    const { run } = setup({
      defects: { dovecot: [noSsl] },
      issuers: [ca, issuer('selfsigned', false, ok('SELF'))],
      installers: [dovecot, installer('exim')],
      switches: { noHostnameCertificate: true },
    });
    await run();
    expect(ca.calls).toEqual([]);
    expect(dovecot.installed).toEqual(['SELF']);
  });

  it('only inspects when disable_service_certificate_management is set', async () => {
    const fallback = issuer('selfsigned', false, ok('SELF'));
    const { run, events } = setup({ defects: { dovecot: [noSsl] }, issuers: [fallback], switches: { noServiceManagement: true } });
    expect((await run()).targets[0]!.result).toBe('unmanaged');
    expect(fallback.calls).toEqual([]);
    expect(events.every(([t, e]) => t === 'inspect' && (e as { action: string }).action === 'keep')).toBe(true);
  });

  it("renews a provider certificate early once the CA's renewal information (ARI) window has come, not before", async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';
    const withCert = (service: string) => {
      const base = installer(service);
      return Object.assign(base, {
        read: async () => ({ service, sources: [{ path: `/ssl/${service}`, role: 'certificate' as const, bytes: Buffer.from(pem) }], endpoints: [] }),
      });
    };
    const asked: string[] = [];
    let window = { start: new Date('2026-07-01T00:00:00Z'), end: new Date('2026-07-02T00:00:00Z') };
    const ca = Object.assign(issuer('ca', true, ok('NEW')), {
      renewalWindow: async (certificatePem: string) => {
        asked.push(certificatePem);
        return window;
      },
    });
    const early = setup({ issuers: [ca], installers: [withCert('dovecot'), withCert('exim')] });
    const before = await early.run();
    expect(asked).toEqual([pem]); // once for both services
    expect(before.targets[0]!.result).toBe('healthy');
    expect(ca.calls).toEqual([]);

    window = { start: new Date('2026-05-30T00:00:00Z'), end: new Date('2026-05-31T00:00:00Z') }; // the clock says 2026-06-01
    const due = setup({ issuers: [ca], installers: [withCert('dovecot'), withCert('exim')] });
    const after = await due.run();
    expect(due.events.filter(([t]) => t === 'inspect').map(([, e]) => (e as { defects: { code: string }[] }).defects.map((d) => d.code))).toEqual([
      ['ARI_RENEWAL_DUE'],
      ['ARI_RENEWAL_DUE'],
    ]);
    expect(ca.calls).toHaveLength(1);
    expect(after.targets[0]!.result).toBe('replaced');
  });

  it('keeps a pending order as a value and schedules one retry only with --allow-retry', async () => {
    const pending = issuer('ca', true, async () => ({
      status: 'pending',
      order: { issuer: 'ca', target: 'hostname', reference: 'https://ca/order/1', names: [], createdAt: '' },
    }));
    const scheduler: Scheduler = {
      id: 'at',
      schedule: vi.fn(async () => ({ id: '7', tag: 't', runAt: 'later' })),
      list: async () => [],
      cancel: async () => undefined,
    };
    const first = setup({ defects: { dovecot: [noSsl] }, issuers: [pending, issuer('selfsigned', false, ok('SELF'))], scheduler });
    const report = await first.run();
    expect(report.targets[0]!.result).toBe('pending');
    // dovecot had no certificate at all: the self-signed stopgap meanwhile, the order still pending.
    expect(report.targets[0]!.actions).toEqual([
      'order https://ca/order/1 at "ca" is still being processed; it is resumed by the next run',
      'installed a self-signed certificate for dovecot until the pending order completes',
    ]);
    expect(scheduler.schedule).not.toHaveBeenCalled();
    const second = setup({ defects: { dovecot: [noSsl] }, issuers: [pending], scheduler });
    const retried = await second.run(target, { allowRetry: true });
    expect(scheduler.schedule).toHaveBeenCalledWith({
      command: ['certsmith', 'check', '--no-retry'],
      delayMinutes: 60,
      tag: 'certsmith-retry:hostname:/etc/certsmith/config.json',
    });
    expect(retried.targets[0]!.actions).toContain('retry scheduled as job 7 at later');
  });

  it('refuses an issued certificate that does not match the request and tries the next issuer', async () => {
    const dovecot = installer('dovecot');
    const { run, failures } = setup({
      defects: { dovecot: [noSsl] },
      installers: [dovecot, installer('exim')],
      issuers: [issuer('ca', true, ok('WRONG')), issuer('selfsigned', false, ok('SELF'))],
      issuedProblems: [{ code: 'KEY_MISMATCH', message: 'the certificate does not belong to the key', severity: 'replace' }],
    });
    const report = await run();
    expect(failures().map((f) => f.code)).toEqual(['ISSUED_MISMATCH', 'ISSUED_MISMATCH']);
    expect(dovecot.installed).toEqual([]);
    expect(report.targets[0]!.result).toBe('failed');
    expect(report.exitCode).toBe(1);
  });

  it('rolls back an install that the service does not serve', async () => {
    const dovecot = installer('dovecot', false);
    const { run, failures } = setup({
      defects: { dovecot: [noSsl] },
      issuers: [issuer('selfsigned', false, ok('SELF'))],
      installers: [dovecot, installer('exim')],
    });
    const report = await run();
    expect(dovecot.rolledBack).toBe(1);
    expect(failures()).toEqual([expect.objectContaining({ code: 'INSTALL_NOT_LIVE', next: 'rolled back to the previous certificate' })]);
    expect(report.targets[0]!.result).toBe('failed');
  });

  it('reports a service without installer and keeps the target going; targets are independent', async () => {
    const { run, failures } = setup({ defects: {}, issuers: [issuer('selfsigned', false, ok('SELF'))] });
    const report = await run({ ...target, services: ['dovecot', 'web', 'explode'] });
    expect(failures().map((f) => f.code)).toEqual(['NO_INSTALLER', 'NO_INSTALLER']);
    expect(report.targets[0]!.result).toBe('failed');
  });

  it('drops names that fail local DCV, orders the rest, and falls back when the primary name fails', async () => {
    const published: string[] = [];
    const cleaned: string[] = [];
    const httpDcv: DcvMethod = {
      id: 'http-file',
      answers: ['probe', 'http-file'],
      publish: async (c: Challenge) => {
        published.push(c.name);
        return { method: 'http-file', challenge: c, where: `/docroot/${c.name}`, handle: null } satisfies Published;
      },
      check: async (p: Published): Promise<NameVerdict> =>
        p.challenge.name.startsWith('www')
          ? { name: p.challenge.name, ok: false, code: 'DCV_HTTP_NOT_FOUND', reason: '404 Not Found' }
          : { name: p.challenge.name, ok: true },
      cleanup: async (p: Published) => {
        cleaned.push(p.challenge.name);
      },
    };
    const ca = issuer('ca', true, ok('CA'), 'http');
    const dovecot = installer('dovecot');
    const { run, failures } = setup({
      defects: { dovecot: [noSsl] },
      issuers: [ca, issuer('selfsigned', false, ok('SELF'))],
      installers: [dovecot, installer('exim')],
      dcv: [httpDcv],
    });
    await run();
    expect(ca.calls).toEqual([['host.example.test']]);
    expect(failures()).toEqual([expect.objectContaining({ stage: 'validate', code: 'DCV_HTTP_NOT_FOUND', next: 'drop this name from the order' })]);
    expect(cleaned.sort()).toEqual(published.sort());

    const strict = setup({
      defects: { dovecot: [noSsl] },
      issuers: [issuer('ca', true, ok('CA'), 'http'), issuer('selfsigned', false, ok('SELF'))],
      dcv: [httpDcv],
      config: { dcv: { requireAllNames: true } },
    });
    await strict.run();
    expect(strict.failures().map((f) => f.code)).toEqual(['DCV_HTTP_NOT_FOUND', 'DCV_NAMES_FAILED']);
  });

  it('drops a name whose CAA forbids the CA from the order, and skips the CA when CAA forbids the primary name', async () => {
    const forbidden = new Set(['www.example.test']);
    const resolver: Resolver = {
      resolveAddresses: async () => {
        throw new Error('not used');
      },
      lookupCaa: async (name) => ({
        name,
        outcome: 'found',
        level: 'example.test',
        owner: 'example.test',
        cnames: [],
        path: [],
        records: [{ flags: 0, tag: 'issue', value: forbidden.has(name) ? 'other.example' : 'ca.example' }],
      }),
    };
    const ca = Object.assign(issuer('ca', true, ok('CA')), { caaIdentities: ['ca.example'] });
    const dovecot = installer('dovecot');
    const { run, failures } = setup({
      defects: { dovecot: [noSsl] },
      issuers: [ca, issuer('selfsigned', false, ok('SELF'))],
      installers: [dovecot, installer('exim')],
      resolver,
    });
    const report = await run();
    expect(ca.calls).toEqual([['host.example.test']]);
    expect(dovecot.installed).toEqual(['CA']);
    expect(failures()).toEqual([
      expect.objectContaining({ stage: 'validate', code: 'CAA_FORBIDS', issuer: 'ca', message: 'www.example.test (0 issue "other.example" at example.test)' }),
    ]);
    expect(report.targets[0]!.validations.filter((v) => v.method === 'caa').map((v) => [v.name, v.ok])).toEqual([
      ['host.example.test', true],
      ['www.example.test', false],
    ]);

    forbidden.add('host.example.test');
    const skipped = Object.assign(issuer('ca', true, ok('CA')), { caaIdentities: ['ca.example'] });
    const fallback = issuer('selfsigned', false, ok('SELF'));
    const primary = setup({ defects: { dovecot: [noSsl] }, issuers: [skipped, fallback], resolver });
    expect((await primary.run()).targets[0]!.result).toBe('replaced');
    expect(skipped.calls).toEqual([]);
    expect(fallback.calls).toEqual([['host.example.test', 'www.example.test']]);
    expect(primary.failures().map((f) => [f.code, f.next])).toEqual([
      ['CAA_FORBIDS', 'drop this name from the order'],
      ['CAA_FORBIDS', 'drop this name from the order'],
      ['CAA_PRIMARY_FORBIDDEN', 'try issuer "selfsigned"'],
    ]);
  });

  it("hands the issuer's address preference to the DCV check, and reports a passing name's findings as warnings", async () => {
    const seen: (DcvCheckOptions | undefined)[] = [];
    const httpDcv: DcvMethod = {
      id: 'http-file',
      answers: ['probe', 'http-file'],
      publish: async (c: Challenge) => ({ method: 'http-file', challenge: c, where: c.name, handle: null }),
      check: async (p: Published, _signal: AbortSignal, options?: DcvCheckOptions): Promise<NameVerdict> => {
        seen.push(options);
        const aaaa = {
          code: 'AAAA_UNREACHABLE',
          message: `${p.challenge.name}: the file is not served over [2001:db8::1] (connection refused) but is over 192.0.2.1`,
        };
        if (!p.challenge.name.startsWith('www')) return { name: p.challenge.name, ok: true };
        return options?.addressPreference === 'ipv6-then-ipv4'
          ? { name: p.challenge.name, ok: true, warnings: [aaaa] }
          : { name: p.challenge.name, ok: false, code: aaaa.code, reason: aaaa.message };
      },
      cleanup: async () => undefined,
    };
    const both: Target = { ...target, names: ['host.example.test', 'www.example.test'] };
    const ca = { ...issuer('ca', true, ok('CA'), 'http'), addressPreference: 'ipv6-then-ipv4' as const };
    const v6 = setup({ defects: { dovecot: [noSsl] }, issuers: [ca, issuer('selfsigned', false, ok('SELF'))], dcv: [httpDcv] });
    const report = await v6.run(both);
    expect(seen).toEqual([{ addressPreference: 'ipv6-then-ipv4' }, { addressPreference: 'ipv6-then-ipv4' }]);
    expect(ca.calls).toEqual([['host.example.test', 'www.example.test']]);
    expect(v6.failures()).toEqual([
      expect.objectContaining({ stage: 'validate', code: 'AAAA_UNREACHABLE', severity: 'warning', next: 'keep the name in the order' }),
    ]);
    expect(report.targets[0]!.validations.find((v) => v.name === 'www.example.test')).toMatchObject({ ok: true, warnings: [{ code: 'AAAA_UNREACHABLE' }] });

    seen.length = 0;
    const cpanel = issuer('ca', true, ok('CA'), 'http');
    const first = setup({ defects: { dovecot: [noSsl] }, issuers: [cpanel, issuer('selfsigned', false, ok('SELF'))], dcv: [httpDcv] });
    const dropped = await first.run(both);
    expect(seen).toEqual([{ addressPreference: undefined }, { addressPreference: undefined }]);
    expect(cpanel.calls).toEqual([['host.example.test']]);
    expect(first.failures()).toEqual([expect.objectContaining({ code: 'AAAA_UNREACHABLE', next: 'drop this name from the order' })]);
    expect(dropped.targets[0]!.validations.find((v) => v.name === 'www.example.test')).toMatchObject({ ok: false, code: 'AAAA_UNREACHABLE' });
  });

  it('never validates or orders excluded names, matched as DNS compares them, and says so', async () => {
    const checked: string[] = [];
    const httpDcv: DcvMethod = {
      id: 'http-file',
      answers: ['probe', 'http-file'],
      publish: async (c: Challenge) => ({ method: 'http-file', challenge: c, where: c.name, handle: null }),
      check: async (p: Published): Promise<NameVerdict> => {
        checked.push(p.challenge.name);
        return { name: p.challenge.name, ok: true };
      },
      cleanup: async () => undefined,
    };
    const ca = issuer('ca', true, ok('CA'), 'http');
    const idn: Target = { ...target, names: ['host.example.test', 'www.example.test', 'xn--bcher-kva.example.test', 'mail.example.test'] };
    const { run, events } = setup({
      defects: { dovecot: [noSsl] },
      issuers: [ca, issuer('selfsigned', false, ok('SELF'))],
      dcv: [httpDcv],
      config: { dcv: { exclude: ['WWW.example.test.', 'bücher.example.test'] } },
    });
    await run(idn);
    expect(checked.sort()).toEqual(['host.example.test', 'mail.example.test']);
    expect(ca.calls).toEqual([['host.example.test', 'mail.example.test']]);
    const excluded = events.filter(([t, e]) => t === 'validated' && (e as { method: string }).method === 'config').map(([, e]) => e);
    expect(excluded).toEqual([
      expect.objectContaining({ name: 'www.example.test', ok: false, reason: 'excluded by the configuration (dcv.exclude)' }),
      expect.objectContaining({ name: 'xn--bcher-kva.example.test', ok: false }),
    ]);
  });

  it("keeps no more of an issuer's orders in flight than it allows, however many targets the run works on at once", async () => {
    let inside = 0;
    let most = 0;
    const slow = issuer('ca', true, async (request) => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inside--;
      return ok(`CERT-${request.names[0]}`)();
    });
    const gated = Object.assign(slow, { ordersInFlight: 1 });
    const { run } = setup({ defects: { dovecot: [noSsl] }, issuers: [gated], installers: [installer('dovecot')] });
    const sites = ['a', 'b', 'c', 'd'].map((n): Target => ({ id: `site-${n}`, names: [`${n}.example.test`], services: ['dovecot'], kind: 'site' }));
    const report = await run(sites, { concurrency: 4 });
    expect(report.targets.map((t) => t.result)).toEqual(['replaced', 'replaced', 'replaced', 'replaced']);
    expect(gated.calls).toHaveLength(4);
    expect(most).toBe(1);
  });

  it('keeps going with the next target when one target breaks', async () => {
    const broken = installer('broken');
    broken.read = async () => {
      throw new CertsmithError('SERVICE_UNREADABLE', 'cannot list /var/cpanel/ssl/broken');
    };
    const dovecot = installer('dovecot');
    const { run, failures } = setup({ defects: { dovecot: [noSsl] }, issuers: [issuer('selfsigned', false, ok('SELF'))], installers: [broken, dovecot] });
    const report = await run([
      { id: 'site-a', names: ['a.example.test'], services: ['broken'], kind: 'site' },
      { id: 'site-b', names: ['b.example.test'], services: ['dovecot'], kind: 'site' },
    ]);
    expect(failures()).toEqual([expect.objectContaining({ code: 'SERVICE_UNREADABLE', target: 'site-a', next: 'skip this target' })]);
    expect(report.targets.map((t) => [t.target, t.result])).toEqual([
      ['site-a', 'failed'],
      ['site-b', 'replaced'],
    ]);
    expect(dovecot.installed).toEqual(['SELF']);
  });

  it('skips a target whose lock another run holds, and releases its own', async () => {
    const fallback = issuer('selfsigned', false, ok('SELF'));
    const { run, failures, stateDir } = setup({ defects: { dovecot: [noSsl] }, issuers: [fallback] });
    const held = await RunLock.acquire(join(stateDir, 'locks'), 'hostname.lock');
    const report = await run();
    expect(report.targets[0]!.result).toBe('skipped');
    expect(failures()).toEqual([expect.objectContaining({ code: 'TARGET_LOCKED', severity: 'warning' })]);
    expect(fallback.calls).toEqual([]);
    await held.release();
    expect((await run()).targets[0]!.result).toBe('replaced');
    await expect(RunLock.acquire(join(stateDir, 'locks'), 'hostname.lock')).resolves.toBeInstanceOf(RunLock);
  });

  it('inspects a healthy target without its lock, so a run holding it does not make it skipped', async () => {
    const { run, events, stateDir } = setup({ issuers: [issuer('selfsigned', false, ok('SELF'))] });
    const held = await RunLock.acquire(join(stateDir, 'locks'), 'hostname.lock');
    const report = await run();
    expect(report.targets[0]!.result).toBe('healthy');
    expect(events.map(([t]) => t)).toEqual(['inspect', 'inspect']);
    await held.release();
  });

  it('inspects again under the lock, and does not redo what a concurrent run replaced meanwhile', async () => {
    const fallback = issuer('selfsigned', false, ok('SELF'));
    const dovecot = installer('dovecot');
    const { run, events, stateDir } = setup({ defects: { dovecot: [noSsl] }, issuers: [fallback], installers: [dovecot, installer('exim')] });
    // The other run finishes between this run's first look and its lock: the second look finds a healthy service.
    let reads = 0;
    dovecot.read = async () => {
      reads++;
      if (reads === 2) {
        expect(await readFile(join(stateDir, 'locks', 'hostname.lock'), 'utf8')).toBe(`${process.pid}\n`);
        return { service: 'healthy-now', sources: [], endpoints: [] };
      }
      return { service: 'dovecot', sources: [], endpoints: [] };
    };
    const report = await run();
    expect(reads).toBe(2);
    expect(report.targets[0]!.result).toBe('healthy');
    expect(fallback.calls).toEqual([]);
    // Only the inspection made under the lock is told.
    expect(events.map(([t]) => t)).toEqual(['inspect', 'inspect']);
    expect(await readdir(join(stateDir, 'locks'))).toEqual([]);
  });

  it('takes the lock and reads again when an installer reports an interrupted install', async () => {
    const dovecot = installer('dovecot');
    const lockedReads: boolean[] = [];
    const { run, events, stateDir } = setup({ issuers: [issuer('selfsigned', false, ok('SELF'))], installers: [dovecot, installer('exim')] });
    dovecot.read = async () => {
      const locked = await readFile(join(stateDir, 'locks', 'hostname.lock'), 'utf8').then(
        () => true,
        () => false,
      );
      lockedReads.push(locked);
      return { service: 'dovecot', sources: [], endpoints: [], ...(locked ? {} : { interrupted: true }) };
    };
    const report = await run();
    expect(lockedReads).toEqual([false, true]);
    expect(report.targets[0]!.result).toBe('healthy');
    expect(events.map(([t]) => t)).toEqual(['inspect', 'inspect']);
  });

  it('says what it would do on a dry run and touches no issuer or installer', async () => {
    const fallback = issuer('selfsigned', false, ok('SELF'));
    const dovecot = installer('dovecot');
    const { run } = setup({ defects: { dovecot: [noSsl] }, issuers: [fallback], installers: [dovecot, installer('exim')] });
    const report = await run(target, { dryRun: true });
    expect(report.targets[0]!.result).toBe('planned');
    expect(report.targets[0]!.actions[0]).toMatch(
      /^would issue a certificate for host\.example\.test, www\.example\.test \(issuers: selfsigned\) and install it for dovecot$/,
    );
    expect(fallback.calls).toEqual([]);
    expect(dovecot.installed).toEqual([]);
  });
});
