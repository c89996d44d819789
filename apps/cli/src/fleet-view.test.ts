import type { FleetView, LastRunTarget, PendingStatus, ServiceStatus, StatusReport, TargetStatus } from '@certsmith/core';
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
    expect(report.warnings).toEqual(['host x: 2 entries of its status are not sound: left out']);
  });

  it('leaves out malformed pending orders, failures and services of a view, in one warning, and lists the rest', () => {
    const forged = host('x', '2026-12-06T11:00:00Z', [
      target('ok', [service(3), { service: 'mail' } as ServiceStatus], {
        pending: [null, {}, { issuer: 'le', createdAt: '2026-12-06T10:00:00Z' }] as unknown as PendingStatus[],
        lastRun: { at: '2026-12-06T10:00:00Z', result: 'failed', actions: [], dropped: [], failures: [{}, null] as unknown as LastRunTarget['failures'] },
      }),
    ]);
    const report = fleetReport({ hosts: [forged], rateLimits: [], warnings: [] }, NOW);
    expect(report.items.map((i) => [i.kind, i.detail])).toEqual([
      ['expiring', `expires ${forged.status.targets[0]!.services[0]!.certificate!.notAfter} (a third of its lifetime left)`],
      ['pending', 'order at "le" pending for 2 h'],
    ]);
    expect(report.warnings).toEqual(['host x: 5 entries of its status are not sound: left out']);
  });

  it('takes days left and waits again against now: a silent host\'s "2 days left" has expired since', () => {
    const threeDaysAgo = new Date(NOW.getTime() - 3 * 86_400_000).toISOString();
    const stale = service(2);
    // What the host saw three days ago: two days left, a certificate that has expired since.
    const then = new Date(NOW.getTime() - 86_400_000).toISOString();
    stale.certificate = { ...stale.certificate!, notAfter: then };
    const waiting = (order: string, createdAt: string, waitedSeconds: number): PendingStatus => ({
      issuer: 'le',
      order,
      names: [],
      createdAt,
      waitedSeconds,
      heldBy: '',
    });
    const report = fleetReport(
      {
        hosts: [
          host('old', threeDaysAgo, [target('shop', [stale])]),
          // Reported long ago: its order's wait was a few minutes then, a day and more now.
          host('slow', '2026-12-05T11:50:00Z', [target('a', [service(60)], { pending: [waiting('o1', '2026-12-05T11:40:00Z', 600)] })]),
          // Reported a minute ago: an order placed twenty hours ago.
          host('fast', '2026-12-06T11:59:00Z', [target('b', [service(60)], { pending: [waiting('o2', '2026-12-05T16:00:00Z', 71_940)] })]),
          host('new', '2026-12-06T11:59:00Z', [target('c', [service(60)], { pending: [waiting('o3', '2026-12-06T11:50:00Z', 540)] })]),
        ],
        rateLimits: [],
        warnings: [],
      },
      NOW,
    );
    expect(report.items.map((i) => [i.kind, i.host, i.days, i.seconds])).toEqual([
      ['expired', 'old', -1, -86_400],
      ['silent', 'old', 3, 3 * 86_400],
      ['pending', 'slow', 1, 86_400 + 20 * 60],
      ['pending', 'fast', 0, 20 * 3_600],
      ['pending', 'new', 0, 600],
    ]);
    expect(report.items.at(-1)!.detail).toBe('order at "le" pending for 10 min');
  });

  it("measures a wait by the host's own measure and the store's time of arrival, not by the host's clock", () => {
    const waiting = (order: string, createdAt: string, waitedSeconds?: number) =>
      ({ issuer: 'le', order, names: [], createdAt, waitedSeconds, heldBy: '' }) as PendingStatus;
    // Three days ahead: its order, placed twenty hours before it reported an hour ago, is stamped in the viewer's future.
    const ahead = {
      ...host('ahead', '2026-12-09T11:00:00Z', [target('a', [service(60)], { pending: [waiting('o1', '2026-12-08T15:00:00Z', 72_000)] })]),
      receivedAt: '2026-12-06T11:00:00Z',
    };
    // Three days behind: its order of ten minutes, reported ten minutes ago, would look three days old by its stamp.
    const behind = {
      ...host('behind', '2026-12-03T11:50:00Z', [target('b', [service(60)], { pending: [waiting('o2', '2026-12-03T11:40:00Z', 600)] })]),
      receivedAt: '2026-12-06T11:50:00Z',
    };
    // A host that gave no wait of its own: counted from its createdAt.
    const bare = host('bare', '2026-12-06T11:00:00Z', [target('c', [service(60)], { pending: [waiting('o3', '2026-12-06T07:00:00Z')] })]);
    const report = fleetReport({ hosts: [behind, bare, ahead], rateLimits: [], warnings: [] }, NOW);
    expect(report.items.map((i) => [i.host, i.days, i.seconds, i.detail])).toEqual([
      ['ahead', 0, 21 * 3_600, 'order at "le" pending for 21 h'],
      ['bare', 0, 5 * 3_600, 'order at "le" pending for 5 h'],
      ['behind', 0, 1_200, 'order at "le" pending for 20 min'],
    ]);
  });

  it('calls a certificate due once the date it was due by has passed, though the host said not yet', () => {
    const later = service(20, { renewal: { due: false, rule: 'lifetime', dueAt: '2026-12-06T00:00:00Z', reason: 'due in 1 day' } });
    const report = fleetReport({ hosts: [host('x', '2026-12-06T11:00:00Z', [target('t', [later])])], rateLimits: [], warnings: [] }, NOW);
    expect(report.items.map((i) => [i.kind, i.detail])).toEqual([['due', 'due since 2026-12-06T00:00:00Z']]);
  });

  it('judges silence by when the store received the report, and says a host clock that runs ahead', () => {
    const ahead = { ...host('ahead', '2026-12-06T11:00:00Z', []), receivedAt: '2026-12-03T11:00:00Z' };
    const late = { ...host('late', '2026-12-03T11:00:00Z', []), receivedAt: '2026-12-06T11:00:00Z' };
    const report = fleetReport({ hosts: [ahead, late], rateLimits: [], warnings: [] }, NOW);
    expect(report.items).toEqual([
      {
        kind: 'silent',
        host: 'ahead',
        days: 3,
        seconds: 3 * 86_400 + 3_600,
        detail: 'no report since 2026-12-03T11:00:00Z (written at 2026-12-06T11:00:00Z by its clock)',
      },
    ]);
    expect(report.hosts.map((h) => [h.host, h.silent])).toEqual([
      ['ahead', true],
      ['late', false],
    ]);
    expect(report.warnings).toEqual([
      'host ahead: its report says it was written at 2026-12-06T11:00:00Z, 3 d after the fleet received it (2026-12-03T11:00:00Z): its clock runs ahead',
    ]);
  });

  it('lists a host whose status has no list of targets with none, and says so', () => {
    const hollow = { ...host('x', '2026-12-06T11:00:00Z', []), status: null as unknown as StatusReport };
    const report = fleetReport({ hosts: [hollow], rateLimits: [], warnings: [] }, NOW);
    expect(report.hosts).toEqual([{ host: 'x', reportedAt: '2026-12-06T11:00:00Z', targets: 0, silent: false }]);
    expect(report.warnings).toEqual(['host x: its status has no list of targets: none listed']);
  });

  it('says a host with an unreadable report time is silent rather than fresh', () => {
    const report = fleetReport({ hosts: [host('x', 'yesterday', [])], rateLimits: [], warnings: [] }, NOW);
    expect(report.items).toEqual([{ kind: 'silent', host: 'x', days: undefined, detail: 'no report since yesterday' }]);
    expect(report.hosts).toEqual([{ host: 'x', reportedAt: 'yesterday', targets: 0, silent: true }]);
  });
});
