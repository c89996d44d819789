// A realistic run for the tests: a host whose certificate is due and whose renewal failed DCV, an expiring
// self-signed fallback, a service with no certificate, an order waiting at the CA, and a healthy second target.
import type { RunReport, StatusReport, ValidatedEvent } from '@certsmith/core';

const LE_ISSUER = "CN=R11, O=Let's Encrypt, C=US";

export const SAMPLE_STATUS: StatusReport = {
  hostname: 'host.example.test',
  config: '/etc/certsmith/config.json',
  now: '2026-12-06T12:00:00.000Z',
  lastRun: { startedAt: '2026-12-06T11:59:10.000Z', finishedAt: '2026-12-06T11:59:52.500Z', exitCode: 1, targets: 2 },
  targets: [
    {
      target: 'hostname',
      names: ['host.example.test', 'mail.example.test'],
      services: [
        {
          service: 'cpanel',
          file: '/var/cpanel/ssl/cpanel/mycpanel.pem',
          certificate: {
            subject: 'CN=host.example.test',
            issuer: LE_ISSUER,
            serial: '04a1',
            notBefore: '2026-10-27T00:00:00.000Z',
            notAfter: '2027-01-25T00:00:00.000Z',
            names: ['host.example.test', 'mail.example.test'],
            selfSigned: false,
          },
          profile: null,
          daysLeft: 49,
          renewal: { due: true, rule: 'lifetime', dueAt: '2026-12-26T00:00:00.000Z', reason: 'a third of its 90-day lifetime' },
          missingNames: [],
        },
        {
          service: 'dovecot',
          file: '/etc/dovecot/ssl/dovecot.crt',
          certificate: {
            subject: 'CN=host.example.test',
            issuer: 'CN=host.example.test',
            serial: '7f',
            notBefore: '2026-09-12T00:00:00.000Z',
            notAfter: '2026-12-11T00:00:00.000Z',
            names: ['host.example.test'],
            selfSigned: true,
          },
          profile: null,
          daysLeft: 4,
          renewal: { due: true, rule: 'self-signed', dueAt: '2026-09-12T00:00:00.000Z', reason: 'a self-signed certificate is replaced' },
          missingNames: ['mail.example.test'],
        },
        {
          service: 'exim',
          file: null,
          certificate: null,
          profile: null,
          daysLeft: null,
          renewal: { due: true, rule: 'missing', dueAt: null, reason: 'no certificate is installed' },
          missingNames: ['host.example.test', 'mail.example.test'],
        },
      ],
      pending: [
        {
          issuer: 'letsencrypt',
          order: 'https://acme.example.test/order/1',
          names: ['host.example.test'],
          createdAt: '2026-12-06T10:00:00.000Z',
          waitedSeconds: 7200,
          heldBy: 'host.example.test (processing for 2h)',
        },
        {
          issuer: 'letsencrypt',
          order: 'https://acme.example.test/order/2',
          names: ['mail.example.test'],
          createdAt: '2026-12-06T11:00:00.000Z',
          waitedSeconds: 3600,
          heldBy: 'mail.example.test (pending for 1h)',
        },
      ],
      lastRun: null,
    },
    {
      target: 'shop.example.test',
      names: ['shop.example.test'],
      services: [
        {
          service: 'web',
          file: '/etc/ssl/certs/shop.example.test.crt',
          certificate: {
            subject: 'CN=shop.example.test',
            issuer: LE_ISSUER,
            serial: '05b2',
            notBefore: '2026-11-20T00:00:00.000Z',
            notAfter: '2027-02-18T00:00:00.000Z',
            names: ['shop.example.test'],
            selfSigned: false,
          },
          profile: 'classic',
          daysLeft: 73,
          renewal: { due: false, rule: 'lifetime', dueAt: '2027-01-19T00:00:00.000Z', reason: 'a third of its 90-day lifetime' },
          missingNames: [],
        },
      ],
      pending: [],
      lastRun: null,
    },
  ],
};

/** The DCV verdicts of the run: two local HTTP pre-checks failed, one DNS answer too, one name passed. */
export const SAMPLE_VALIDATIONS: ValidatedEvent[] = [
  { target: 'hostname', name: 'host.example.test', ok: false, method: 'http-file', over: 'http', code: 'DCV_HTTP_NOT_FOUND', reason: '404' },
  { target: 'hostname', name: 'mail.example.test', ok: false, method: 'http-file', over: 'http', code: 'DCV_HTTP_NOT_FOUND', reason: '404' },
  { target: 'hostname', name: 'mail.example.test', ok: false, method: 'dns-txt', over: 'dns', reason: 'the CA saw no TXT record' },
  { target: 'hostname', name: 'host.example.test', ok: false, method: 'caa', reason: 'CAA_FORBIDS: example' },
  { target: 'shop.example.test', name: 'shop.example.test', ok: true, method: 'http-file', over: 'http' },
];

export const SAMPLE_REPORT: RunReport = {
  hostname: 'host.example.test',
  startedAt: '2026-12-06T11:59:10.000Z',
  finishedAt: '2026-12-06T11:59:52.500Z',
  dryRun: false,
  exitCode: 1,
  targets: [
    {
      target: 'hostname',
      names: ['host.example.test', 'mail.example.test'],
      result: 'failed',
      services: [
        {
          service: 'exim',
          failures: [
            {
              stage: 'install',
              target: 'hostname',
              service: 'exim',
              code: 'INSTALL_FAILED',
              message: 'no space left',
              next: 'keep',
              severity: 'error',
            },
          ],
        },
      ],
      validations: SAMPLE_VALIDATIONS.filter((v) => v.target === 'hostname'),
      failures: [
        { stage: 'dcv', target: 'hostname', name: 'host.example.test', code: 'DCV_HTTP_NOT_FOUND', message: '404', next: 'drop', severity: 'warning' },
        { stage: 'dcv', target: 'hostname', name: 'mail.example.test', code: 'DCV_HTTP_NOT_FOUND', message: '404', next: 'drop', severity: 'warning' },
      ],
      actions: [],
    },
    { target: 'shop.example.test', names: ['shop.example.test'], result: 'healthy', services: [], validations: [], failures: [], actions: [] },
  ],
};
