// The replace-or-keep decisions of the pipeline with the plugins faked: names a certificate lacks, renewals that would
// drop names, ARI windows that are later or unusable, and key files narrowed in place.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { completeConfig } from './config/config.js';
import type { Challenge, DcvMethod, Inspection, Inspector, Installer, Issuer, NameVerdict, Published } from './contracts.js';
import { createBus, type FailedEvent, type InspectEvent } from './events.js';
import type { CertificateSummary, Defect, Target } from './model.js';
import { Pipeline } from './pipeline.js';
import { RunReportCollector } from './report.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const target: Target = { id: 'hostname', names: ['host.example.test', 'www.example.test'], services: ['dovecot'], kind: 'hostname' };
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n';

function certificate(names: string[], notBefore: Date, notAfter: Date): CertificateSummary {
  return {
    subject: '',
    commonName: null,
    issuer: 'CN=Fake CA',
    serial: '01',
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    names,
    hasSan: true,
    key: 'EC P-256',
    signatureAlgorithm: 'ecdsa-with-SHA256',
    fingerprint: 'f',
    selfSigned: false,
    extendedKeyUsage: ['serverAuth'],
  };
}

function inspector(summary: CertificateSummary, defects: Defect[]): Inspector {
  return {
    inspect: async (): Promise<Inspection> => ({ files: [], live: [], summary, chain: [], defects: [...defects], providerIssued: true }),
    summarize: () => certificate(['host.example.test'], NOW, new Date(NOW.getTime() + 90 * DAY)),
    verifyIssued: () => [],
  };
}

function dcvFailing(prefix: string): DcvMethod & { checked: string[] } {
  const checked: string[] = [];
  return {
    id: 'http-file',
    checked,
    answers: ['probe', 'http-file'],
    publish: async (c: Challenge) => ({ method: 'http-file', challenge: c, where: c.name, handle: null }) satisfies Published,
    check: async (p: Published): Promise<NameVerdict> => {
      checked.push(p.challenge.name);
      return p.challenge.name.startsWith(prefix)
        ? { name: p.challenge.name, ok: false, code: 'DNS_NXDOMAIN', reason: 'no such name' }
        : { name: p.challenge.name, ok: true };
    },
    cleanup: async () => undefined,
  };
}

function ca(window?: () => Promise<{ start: Date; end: Date } | null>): Issuer & { orders: string[][] } {
  const orders: string[][] = [];
  return {
    id: 'ca',
    trusted: true,
    precheck: 'http',
    issuerPatterns: [],
    orders,
    issue: async (request) => {
      orders.push(request.names);
      return { status: 'issued', certificatePem: 'NEW', chainPem: [] };
    },
    ...(window ? { renewalWindow: window } : {}),
  };
}

function installer(): Installer & { restricted: [string, number][] } {
  const restricted: [string, number][] = [];
  return {
    service: 'dovecot',
    restricted,
    endpoints: () => [],
    read: async () => ({ service: 'dovecot', sources: [{ path: '/ssl/dovecot.crt', role: 'certificate', bytes: Buffer.from(PEM) }], endpoints: [] }),
    install: async () => ({ service: 'dovecot', target: 'hostname', files: [], reloaded: false, fingerprint: 'n', dryRun: false, handle: null }),
    prove: async () => ({ ok: true, observations: [] }),
    rollback: async () => undefined,
    restrictMode: vi.fn(async (path: string, mode: number) => {
      restricted.push([path, mode]);
    }),
  };
}

async function run(opts: { inspector: Inspector; issuer: Issuer; dcv?: DcvMethod; installer?: Installer; issuers?: Issuer[]; signal?: AbortSignal }) {
  const bus = createBus();
  const failures: FailedEvent[] = [];
  const inspections: InspectEvent[] = [];
  bus.on('failed', (e) => failures.push(e));
  bus.on('inspect', (e) => inspections.push(e));
  const report = new RunReportCollector(bus);
  const stateDir = mkdtempSync(join(tmpdir(), 'certsmith-renewal-'));
  const config = completeConfig(
    { hostname: 'host.example.test', issuers: (opts.issuers ?? [opts.issuer]).map((i) => i.id), paths: { stateDir } },
    '/etc/certsmith/config.json',
  );
  const pipeline = new Pipeline({
    config,
    bus,
    report,
    switches: { noHostnameCertificate: false, noServiceManagement: false },
    clock: { now: () => NOW },
    inspector: opts.inspector,
    csrFactory: { create: async () => ({ keys: {} as never, keyPem: 'KEY', csrDer: new Uint8Array(), csrPem: 'CSR', spec: { type: 'ecdsa-p256' } }) },
    issuers: opts.issuers ?? [opts.issuer],
    installers: [opts.installer ?? installer()],
    dcv: opts.dcv ? [opts.dcv] : [],
  });
  await pipeline.run([target], { dryRun: false, allowRetry: false, retryCommand: [], concurrency: 1, signal: opts.signal ?? new AbortController().signal });
  const result = report.finish({ hostname: 'host.example.test', startedAt: NOW, finishedAt: NOW, dryRun: false }).targets[0]!;
  return { result, failures, inspections };
}

const lacksWww: Defect = {
  code: 'NAME_MISMATCH',
  message: 'the certificate does not cover www.example.test',
  names: ['www.example.test'],
  severity: 'upgrade',
};
const dueByLifetime: Defect = { code: 'ALMOST_EXPIRED', message: 'due', severity: 'upgrade', renewal: { rule: 'lifetime', dueAt: NOW.toISOString() } };
const hostOnly = certificate(['host.example.test'], new Date(NOW.getTime() - 10 * DAY), new Date(NOW.getTime() + 80 * DAY));
const both = certificate(['host.example.test', 'www.example.test'], new Date(NOW.getTime() - 60 * DAY), new Date(NOW.getTime() + 30 * DAY));

describe('a certificate that lacks names that cannot be validated', () => {
  it('stays, with the reason per name, and nothing is ordered', async () => {
    const issuer = ca();
    const dcv = dcvFailing('www');
    const { result, failures } = await run({ inspector: inspector(hostOnly, [lacksWww]), issuer, dcv });
    expect(issuer.orders).toEqual([]);
    expect(dcv.checked).toEqual(['www.example.test']);
    expect(result.result).toBe('kept');
    expect(result.actions.join('\n')).toMatch(/covers every name that can be validated now; not covered: www\.example\.test/);
    expect(failures).toEqual([
      expect.objectContaining({
        name: 'www.example.test',
        code: 'DNS_NXDOMAIN',
        severity: 'warning',
        next: expect.stringMatching(/keep the current certificate/),
      }),
    ]);
  });

  it('is ordered again once a missing name passes; each name is checked (and said) once', async () => {
    const issuer = ca();
    const dcv = dcvFailing('nothing');
    const { result } = await run({ inspector: inspector(hostOnly, [lacksWww]), issuer, dcv });
    expect(issuer.orders).toEqual([['host.example.test', 'www.example.test']]);
    expect(result.result).toBe('replaced');
    // The uncovered-names check and the order's pre-check share verdicts: www is not checked (and printed) twice.
    expect([...dcv.checked].sort()).toEqual(['host.example.test', 'www.example.test']);
    expect(result.validations.map((v) => v.name).sort()).toEqual(['host.example.test', 'www.example.test']);
  });

  it('is renewed without the name when it is due anyway', async () => {
    const issuer = ca();
    const { result } = await run({ inspector: inspector(hostOnly, [lacksWww, dueByLifetime]), issuer, dcv: dcvFailing('www') });
    expect(issuer.orders).toEqual([['host.example.test']]);
    expect(result.result).toBe('replaced');
  });
});

describe('a renewal that would cover fewer names', () => {
  it('waits while the certificate in place still has more than its last days', async () => {
    const issuer = ca();
    const { result, failures } = await run({ inspector: inspector(both, [dueByLifetime]), issuer, dcv: dcvFailing('www') });
    expect(issuer.orders).toEqual([]);
    expect(result.result).toBe('kept');
    expect(failures.map((f) => f.code)).toEqual(['DNS_NXDOMAIN', 'ORDER_WOULD_DROP_NAMES']);
    expect(failures[1]!.message).toMatch(
      /would not cover www\.example\.test, which the current one covers; it is renewed without them from 2026-06-28T00:00:00Z/,
    );
  });

  it('goes ahead in the last days, or when the certificate is defective otherwise', async () => {
    const lastDays = certificate(both.names, new Date(NOW.getTime() - 88 * DAY), new Date(NOW.getTime() + 2 * DAY));
    const late = ca();
    await run({ inspector: inspector(lastDays, [dueByLifetime]), issuer: late, dcv: dcvFailing('www') });
    expect(late.orders).toEqual([['host.example.test']]);
    const revoked = ca();
    await run({ inspector: inspector(both, [{ code: 'OCSP_REVOKED', message: 'revoked', severity: 'replace' }]), issuer: revoked, dcv: dcvFailing('www') });
    expect(revoked.orders).toEqual([['host.example.test']]);
  });
});

describe('ARI first', () => {
  const sixDay = certificate(target.names, new Date(NOW.getTime() - 3.5 * DAY), new Date(NOW.getTime() + 2.5 * DAY));

  it('a window later than the lifetime rule keeps the certificate until then', async () => {
    const issuer = ca(async () => ({ start: new Date(NOW.getTime() + DAY), end: new Date(NOW.getTime() + 1.5 * DAY) }));
    const { result, inspections } = await run({ inspector: inspector(sixDay, [dueByLifetime]), issuer });
    expect(issuer.orders).toEqual([]);
    expect(result.result).toBe('healthy');
    expect(inspections[0]!.defects).toEqual([]);
  });

  it('a window that has come makes it due, naming the rule', async () => {
    const issuer = ca(async () => ({ start: new Date(NOW.getTime() - DAY), end: new Date(NOW.getTime() - 1000) }));
    const { inspections } = await run({ inspector: inspector(sixDay, []), issuer, dcv: dcvFailing('nothing') });
    expect(inspections[0]!.defects).toEqual([expect.objectContaining({ code: 'ARI_RENEWAL_DUE', renewal: expect.objectContaining({ rule: 'ari' }) })]);
    expect(inspections[0]!.status).toBe('Ready for Renewal');
    expect(issuer.orders).toHaveLength(1);
  });

  it('an unusable window is one warning, and the lifetime rule decides', async () => {
    const issuer = ca(async () => ({ start: new Date(NOW.getTime() + 10 * DAY), end: new Date(NOW.getTime() + 11 * DAY) }));
    const { inspections } = await run({ inspector: inspector(sixDay, [dueByLifetime]), issuer, dcv: dcvFailing('nothing') });
    expect(inspections[0]!.defects.map((d) => [d.code, d.severity])).toEqual([
      ['ALMOST_EXPIRED', 'upgrade'],
      ['ARI_INVALID', 'warning'],
    ]);
    expect(inspections[0]!.defects[1]!.message).toMatch(/issuer "ca" .* unusable: the suggested window starts .* after the certificate expires/);
    expect(issuer.orders).toHaveLength(1);
  });
});

describe('a key file open to others', () => {
  it('is narrowed to 0600 in place, with no order', async () => {
    const issuer = ca();
    const target = installer();
    const open: Defect = {
      code: 'KEY_PERMISSIONS',
      message: 'open',
      severity: 'warning',
      path: '/ssl/dovecot.key',
      repair: { path: '/ssl/dovecot.key', mode: 0o600 },
    };
    const { result } = await run({ inspector: inspector(both, [open]), issuer, installer: target });
    expect(target.restricted).toEqual([['/ssl/dovecot.key', 0o600]]);
    expect(issuer.orders).toEqual([]);
    expect(result.result).toBe('healthy');
    expect(result.actions).toEqual(['narrowed /ssl/dovecot.key to mode 0600']);
  });
});

describe('an interrupt (the run signal aborted)', () => {
  it('during an order: no fallback to the next issuer, nothing installed, the target is interrupted', async () => {
    const controller = new AbortController();
    const aborting: Issuer = {
      ...ca(),
      issue: async () => {
        controller.abort(new Error('interrupted'));
        throw new Error('aborted');
      },
    };
    const fallback = { ...ca(), id: 'selfsigned', trusted: false, precheck: 'none' as const };
    const install = installer();
    const spy = vi.spyOn(install, 'install');
    const { result, failures } = await run({
      inspector: inspector(hostOnly, [dueByLifetime]),
      issuer: aborting,
      issuers: [aborting, fallback],
      dcv: dcvFailing('nothing'),
      installer: install,
      signal: controller.signal,
    });
    expect(result.result).toBe('interrupted');
    expect(result.actions.join()).toMatch(/^interrupted during the order/);
    expect(fallback.orders).toEqual([]);
    expect(spy).not.toHaveBeenCalled();
    expect(failures).toEqual([]);
  });

  it('after the order: the certificate in hand is installed (the install under way is finished), nothing after it starts', async () => {
    const controller = new AbortController();
    const issuer: Issuer = {
      ...ca(),
      issue: async () => {
        controller.abort(new Error('interrupted'));
        return { status: 'issued', certificatePem: 'NEW', chainPem: [] };
      },
    };
    const install = installer();
    const spy = vi.spyOn(install, 'install');
    const { result } = await run({
      inspector: inspector(hostOnly, [dueByLifetime]),
      issuer,
      dcv: dcvFailing('nothing'),
      installer: install,
      signal: controller.signal,
    });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]![2].signal.aborted).toBe(false); // the install is not handed the interrupt
    expect(result.result).toBe('replaced');
  });
});
