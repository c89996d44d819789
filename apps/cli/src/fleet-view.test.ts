import type { FleetView, ServiceStatus, StatusReport, TargetStatus } from '@certsmith/core';
import { describe, expect, it } from 'vitest';
import { fleetLines, fleetReport } from './fleet-view.js';

const NOW = new Date('2026-12-06T12:00:00Z');

function service(daysLeft: number | null, over: Partial<ServiceStatus> = {}): ServiceStatus {
  const notAfter = daysLeft === null ? '' : new Date(NOW.getTime() + daysLeft * 86_400_000).toISOString();
  return {
    service: 'web',
    file: '/ssl/web.crt',
    certificate:
      daysLeft === null
        ? null
        : { subject: '', issuer: 'Lab CA', serial: '01', notBefore: '2026-11-01T00:00:00Z', notAfter, names: ['a.test'], selfSigned: false },
    profile: null,
    daysLeft,
    renewal: { due: daysLeft !== null && daysLeft < 30, rule: 'lifetime', dueAt: null, reason: 'a third of its lifetime left' },
    missingNames: [],
    ...over,
  };
}

function target(id: string, services: ServiceStatus[], over: Partial<TargetStatus> = {}): TargetStatus {
  return { target: id, names: [`${id}.test`], services, pending: [], lastRun: null, ...over };
}

function host(name: string, reportedAt: string, targets: TargetStatus[]): FleetView['hosts'][number] {
  const status: StatusReport = { hostname: name, config: '/etc/certsmith/config.json', now: reportedAt, lastRun: null, targets };
  return { host: name, reportedAt, status };
}

describe('fleetReport', () => {
  it('puts the worst on top, after a summary line, and leaves healthy certificates out', () => {
    const view: FleetView = {
      hosts: [
        host('web1', '2026-12-06T11:00:00Z', [
          target('shop', [service(60)]),
          target('blog', [service(20)]),
          target('old', [service(-1)]),
          target('wait', [service(50)], {
            pending: [
              { issuer: 'le', order: 'o1', names: ['wait.test'], createdAt: '2026-12-03T12:00:00Z', waitedSeconds: 3 * 86_400, heldBy: 'wait.test (pending)' },
            ],
          }),
        ]),
        host('web2', '2026-12-03T12:00:00Z', [target('soon', [service(3)]), target('self', [service(80, { missingNames: ['www.self.test'] })])]),
        host('web3', '2026-12-06T10:00:00Z', [
          target('held', [service(40)], {
            lastRun: {
              at: '2026-12-06T10:00:00Z',
              result: 'failed',
              actions: [],
              dropped: [],
              failures: [{ code: 'RATE_LIMITED', message: 'not asking "le" before 2026-12-06T13:00:00Z', severity: 'error' }],
            },
          }),
        ]),
      ],
      rateLimits: [
        {
          issuer: 'le',
          scope: 'name',
          name: 'held.test',
          until: '2026-12-06T13:00:00Z',
          recordedAt: '',
          code: 'ACME_RATE_LIMITED',
          kind: 'rateLimited',
          detail: '',
          host: 'web1',
        },
      ],
      warnings: ['key "status.bad": not a status document: ignored'],
    };
    const report = fleetReport(view, NOW);
    expect(report.items.map((i) => [i.kind, i.host, i.target ?? ''])).toEqual([
      ['expired', 'web1', 'old'],
      ['silent', 'web2', ''],
      ['defective', 'web2', 'self'],
      ['expiring', 'web2', 'soon'],
      ['due', 'web1', 'blog'],
      ['held', 'web3', 'held'],
      ['pending', 'web1', 'wait'],
    ]);
    expect(report.summary).toMatchObject({ hosts: 3, certificates: 7, rateLimits: 1, counts: { expired: 1, silent: 1, pending: 1 } });
    const lines = fleetLines(report);
    expect(lines[0]).toBe(
      '3 hosts, 7 certificates: 1 expired, 1 defective, 1 expiring within 7 days, 1 due, 1 pending orders, 1 held back by a rate limit, 1 hosts silent for more than 2 days; 1 rate limits in force',
    );
    expect(lines[2]).toMatch(/^ {2}SILENT {4}web2: no report since 2026-12-03T12:00:00Z$/);
    expect(lines).toContain('  LIMIT     "le" held.test until 2026-12-06T13:00:00Z (met by web1): rateLimited');
    expect(lines.at(-1)).toBe('  warning: key "status.bad": not a status document: ignored');
    expect(report.hosts.map((h) => [h.host, h.silent])).toEqual([
      ['web1', false],
      ['web2', true],
      ['web3', false],
    ]);
  });

  it('leaves out targets of a forged status that are not status entries, with a warning naming the host', () => {
    const forged = host('x', '2026-12-06T11:00:00Z', [target('ok', [service(3)])]);
    (forged.status.targets as unknown[]).push({ target: 'bad' }, null);
    const report = fleetReport({ hosts: [forged], rateLimits: [], warnings: [] }, NOW);
    expect(report.items.map((i) => i.target)).toEqual(['ok']);
    expect(report.warnings).toEqual(['host x: 2 target(s) in its status are not status entries: left out']);
  });

  it('says a host with an unreadable report time is silent rather than fresh', () => {
    const report = fleetReport({ hosts: [host('x', 'yesterday', [])], rateLimits: [], warnings: [] }, NOW);
    expect(report.items).toEqual([{ kind: 'silent', host: 'x', days: undefined, detail: 'no report since yesterday' }]);
  });
});
