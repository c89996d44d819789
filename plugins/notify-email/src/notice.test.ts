import { describe, expect, it } from 'vitest';
import type { CertificateSummary, InspectEvent, RunReport, TargetReport } from '@certsmith/core';
import { buildNotice, subjectOf } from './notice.js';
import { renderHtml, renderText } from './render.js';

const STARTED = '2026-11-25T00:00:00.000Z';
const day = (n: number) => new Date(Date.parse(STARTED) + n * 86_400_000).toISOString();

function summary(notAfter: string): CertificateSummary {
  return {
    subject: 'CN=host.example.test',
    commonName: 'host.example.test',
    issuer: 'CN=host.example.test',
    serial: '01',
    notBefore: day(-300),
    notAfter,
    names: ['host.example.test'],
    hasSan: true,
    key: 'EC P-256',
    signatureAlgorithm: 'ecdsa-with-SHA256',
    fingerprint: 'ab'.repeat(32),
    selfSigned: true,
    extendedKeyUsage: ['serverAuth'],
  };
}

function inspect(service: string, notAfter: string | null, defects: InspectEvent['defects'], action: InspectEvent['action']): InspectEvent {
  return {
    target: 'hostname',
    service,
    files: [],
    live: [],
    summary: notAfter ? summary(notAfter) : null,
    chain: [],
    defects,
    status: defects.length ? 'Defective' : 'OK',
    action,
    providerIssued: false,
  };
}

function report(target: Partial<TargetReport>): RunReport {
  return {
    hostname: 'host.example.test',
    startedAt: STARTED,
    finishedAt: day(0.001),
    dryRun: false,
    exitCode: 0,
    logFile: '/var/log/certsmith/run.jsonl',
    targets: [{ target: 'hostname', names: ['host.example.test'], result: 'healthy', services: [], validations: [], failures: [], actions: [], ...target }],
  };
}

const selfSignedIssued = { target: 'hostname', issuer: 'selfsigned', status: 'issued' as const, summary: summary(day(365)), chain: [], selfSigned: true };
const installed = (service: string) => ({ target: 'hostname', service, files: [`/ssl/${service}`], reloaded: true, live: [], dryRun: false });

describe('buildNotice', () => {
  it('has nothing to say about healthy services (a self-signed note is info only)', () => {
    const notice = buildNotice(
      report({
        services: [
          {
            service: 'cpanel',
            failures: [],
            inspect: inspect('cpanel', day(200), [{ code: 'SELF_SIGNED', message: 'self-signed', severity: 'info' }], 'keep'),
          },
        ],
      }),
      { expiryNoticeDays: 30 },
    );
    expect(notice).toBeNull();
  });

  it('makes one table per service with a warning, saying what was done', () => {
    const notice = buildNotice(
      report({
        result: 'replaced',
        issued: selfSignedIssued,
        actions: ['installed a self-signed certificate for cpanel'],
        services: [
          {
            service: 'cpanel',
            failures: [],
            installed: installed('cpanel'),
            inspect: inspect(
              'cpanel',
              null,
              [{ code: 'INVALID_CERTIFICATE:/ssl/cpanel/cpanel.pem', message: '/ssl/cpanel/cpanel.pem: no certificate in this file', severity: 'replace' }],
              'replace',
            ),
          },
          { service: 'dovecot', failures: [], inspect: inspect('dovecot', day(200), [], 'keep') },
        ],
      }),
      { expiryNoticeDays: 30 },
    )!;
    expect(subjectOf(notice)).toBe('1 service(s) generated warnings while checking SSL certificates.');
    expect(notice.services).toHaveLength(1);
    expect(notice.services[0]).toMatchObject({
      service: 'cpanel',
      rows: [
        {
          code: 'INVALID_CERTIFICATE:/ssl/cpanel/cpanel.pem',
          done: expect.stringMatching(/^self-signed certificate installed \(expires .*\), service reloaded$/),
        },
      ],
    });
    expect(notice.logFile).toBe('/var/log/certsmith/run.jsonl');
  });

  it('says that the run was interrupted, and which targets it did not finish', () => {
    const notice = buildNotice({ ...report({ result: 'interrupted' }), interrupted: 'SIGTERM' }, { expiryNoticeDays: 30 })!;
    expect(notice.notices).toEqual([
      'The run was interrupted (SIGTERM) before it finished; not done: hostname. Nothing is left half-installed; the next run carries on.',
    ]);
    expect(renderText(notice)).toContain('The run was interrupted (SIGTERM)');
    expect(buildNotice(report({ result: 'interrupted' }), { expiryNoticeDays: 30 })).toBeNull();
  });

  it('says when an expired certificate was replaced by a self-signed one', () => {
    const notice = buildNotice(
      report({
        result: 'replaced',
        issued: selfSignedIssued,
        services: [
          {
            service: 'exim',
            failures: [],
            installed: installed('exim'),
            inspect: inspect(
              'exim',
              day(-2),
              [{ code: 'EXPIRED', cpanel: 'OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED', message: 'expired', severity: 'replace' }],
              'replace',
            ),
          },
        ],
      }),
      { expiryNoticeDays: 30 },
    )!;
    expect(notice.notices).toEqual([
      `The exim certificate for host.example.test expired on ${day(-2)
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '')} UTC; a new self-signed certificate was installed.`,
    ]);
    expect(notice.services[0]!.rows[0]!.code).toBe('EXPIRED (OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED)');
  });

  it('warns of a kept certificate that expires in under 30 days, unless service management is disabled', () => {
    const services = [{ service: 'ftp', failures: [], inspect: inspect('ftp', day(20), [], 'keep' as const) }];
    const notice = buildNotice(report({ services }), { expiryNoticeDays: 30 })!;
    expect(notice.notices[0]).toMatch(/^The ftp certificate for host\.example\.test will expire in less than 30 days \(on .*, 20\.0 days from now\)\.$/);
    expect(notice.services[0]!.rows).toEqual([expect.objectContaining({ code: 'EXPIRES_SOON', done: 'kept: it does not call for a replacement' })]);

    expect(buildNotice(report({ services, result: 'unmanaged' }), { expiryNoticeDays: 30 })).toBeNull();
    const unmanagedExpired = [
      {
        service: 'ftp',
        failures: [],
        inspect: inspect('ftp', day(-1), [{ code: 'EXPIRED', message: 'expired', severity: 'replace' as const }], 'keep' as const),
      },
    ];
    expect(buildNotice(report({ services: unmanagedExpired, result: 'unmanaged' }), { expiryNoticeDays: 30 })).toBeNull();
  });

  it('warns of a short-lived certificate only once its renewal is overdue (a third of its lifetime left), not for each new one', () => {
    const sixDay = (daysLeft: number) => [
      {
        service: 'ftp',
        failures: [],
        inspect: { ...inspect('ftp', day(daysLeft), [], 'keep' as const), summary: { ...summary(day(daysLeft)), notBefore: day(daysLeft - 6) } },
      },
    ];
    expect(buildNotice(report({ services: sixDay(5) }), { expiryNoticeDays: 30 })).toBeNull();
    expect(buildNotice(report({ services: sixDay(2.5) }), { expiryNoticeDays: 30 })).toBeNull();
    expect(buildNotice(report({ services: sixDay(1.5) }), { expiryNoticeDays: 30 })!.notices[0]).toMatch(
      /will expire in less than 30 days \(on .*, 1\.5 days from now\)/,
    );
  });

  it('puts target-level failures and dropped names in the table of the service being fixed', () => {
    const notice = buildNotice(
      report({
        result: 'failed',
        validations: [{ target: 'hostname', name: 'www.example.test', ok: false, method: 'http-file', reason: 'HTTP 404' }],
        failures: [
          {
            stage: 'issue',
            target: 'hostname',
            issuer: 'sectigo',
            code: 'CA_UNREACHABLE',
            message: 'connection refused',
            next: 'no issuer left',
            severity: 'error',
          },
        ],
        services: [
          {
            service: 'cpanel',
            failures: [],
            inspect: inspect('cpanel', null, [{ code: 'NO_SSL', message: 'No SSL certificate is installed.', severity: 'replace' }], 'replace'),
          },
        ],
      }),
      { expiryNoticeDays: 30 },
    )!;
    expect(notice.services.map((s) => s.rows.map((r) => r.code))).toEqual([['NO_SSL', 'CA_UNREACHABLE', 'NAME_DROPPED']]);
    expect(notice.services[0]!.rows[2]).toEqual({ code: 'NAME_DROPPED', detail: 'www.example.test: HTTP 404', done: 'left out of the certificate' });
  });
});

describe('render', () => {
  const notice = buildNotice(
    report({
      result: 'failed',
      services: [
        {
          service: 'cpanel',
          failures: [
            {
              stage: 'install',
              target: 'hostname',
              service: 'cpanel',
              code: 'INSTALL_NOT_LIVE',
              message: 'a <b>very</b> long message that needs wrapping because it goes on and on past the column width of the table',
              next: 'rolled back',
              severity: 'error',
            },
          ],
          inspect: inspect('cpanel', null, [{ code: 'NO_SSL', message: 'No SSL certificate is installed.', severity: 'replace' }], 'replace'),
        },
      ],
    }),
    { expiryNoticeDays: 30 },
  )!;

  it('draws a text table whose lines all have the same width', () => {
    const text = renderText(notice);
    const table = text.split('\n').filter((l) => l.startsWith('|') || l.startsWith('+'));
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
    expect(text).toContain('| NO_SSL ');
    expect(text).toContain('Log:    /var/log/certsmith/run.jsonl');
  });

  it('escapes every value in the HTML tables', () => {
    const html = renderHtml(notice);
    expect(html).toContain('a &lt;b&gt;very&lt;/b&gt; long message');
    expect(html).not.toContain('<b>very</b>');
    expect(html.match(/<table class="service"/g)).toHaveLength(1);
  });
});
