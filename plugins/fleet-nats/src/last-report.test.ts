import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatusReport, TargetStatus } from '@certsmith/core';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_MS, LastReport, mustReport, statusDigest, type ReportFacts } from './last-report.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const HOUR = 3_600_000;

function target(id: string, daysLeft = 60): TargetStatus {
  return {
    target: id,
    names: [`${id}.example.test`],
    services: [
      {
        service: 'files',
        file: `/etc/ssl/${id}.pem`,
        certificate: null,
        profile: null,
        daysLeft,
        renewal: { due: false, rule: 'lifetime', dueAt: null, reason: 'not due' },
        missingNames: [],
      },
    ],
    pending: [],
    lastRun: { at: NOW.toISOString(), result: 'healthy', actions: [], dropped: [], failures: [] } as unknown as TargetStatus['lastRun'],
  };
}

/** A host's status as a run at `at` reports it: the clock shows in `now` and in the last run's times. */
function statusAt(at: Date, targets = [target('a')]): StatusReport {
  const stamp = (t: TargetStatus) => ({ ...t, lastRun: t.lastRun && { ...t.lastRun, at: at.toISOString() } });
  return {
    hostname: 'web.example.test',
    config: '/etc/certsmith.json',
    now: at.toISOString(),
    lastRun: { startedAt: at.toISOString(), finishedAt: at.toISOString(), exitCode: 0, targets: targets.length },
    targets: targets.map(stamp),
  };
}

const DEST = 'nats://127.0.0.1:4222 certsmith-status web_example_test';

describe('statusDigest', () => {
  it('is the same for runs that differ only by the clock, and differs when the status or its destination does', () => {
    const first = statusDigest(statusAt(NOW), DEST);
    expect(statusDigest(statusAt(new Date(NOW.getTime() + HOUR)), DEST)).toBe(first);
    expect(statusDigest(statusAt(NOW, [target('a', 59)]), DEST)).not.toBe(first);
    expect(statusDigest(statusAt(NOW, [target('a'), target('b')]), DEST)).not.toBe(first);
    expect(statusDigest({ ...statusAt(NOW), lastRun: { ...statusAt(NOW).lastRun!, exitCode: 1 } }, DEST)).not.toBe(first);
    expect(statusDigest(statusAt(NOW), 'nats://127.0.0.1:4223 certsmith-status web_example_test')).not.toBe(first);
  });
});

describe('mustReport', () => {
  const status = statusAt(NOW);
  const digest = statusDigest(status, DEST);
  const quiet = (at: Date): ReportFacts => ({
    telling: false,
    spooled: false,
    status: statusAt(at),
    digest,
    last: { version: 1, digest, reportedAt: NOW.toISOString() },
    now: at,
  });
  const later = (ms: number) => new Date(NOW.getTime() + ms);

  it('skips an unchanged status until the heartbeat is due', () => {
    expect(mustReport(quiet(later(HOUR)))).toBe(false);
    expect(mustReport(quiet(later(HEARTBEAT_MS - 1)))).toBe(false);
    expect(mustReport(quiet(later(HEARTBEAT_MS)))).toBe(true);
    // A record from the future (the clock was set back) proves nothing.
    expect(mustReport(quiet(later(-HOUR)))).toBe(true);
  });

  it('reports at once what is news: events, a spool, a changed status, a pending order, no record yet', () => {
    const at = later(HOUR);
    expect(mustReport({ ...quiet(at), telling: true })).toBe(true);
    expect(mustReport({ ...quiet(at), spooled: true })).toBe(true);
    expect(mustReport({ ...quiet(at), digest: 'other' })).toBe(true);
    expect(mustReport({ ...quiet(at), last: null })).toBe(true);
    const pending = { issuer: 'acme', order: 'https://ca/order/1', names: ['a.example.test'], createdAt: NOW.toISOString(), waitedSeconds: 60, heldBy: '' };
    expect(mustReport({ ...quiet(at), status: { ...status, targets: [{ ...target('a'), pending: [pending] }] } })).toBe(true);
  });
});

describe('LastReport', () => {
  it('writes its record 0600 and reads it back; a missing or foreign file is no record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certsmith-fleet-report-'));
    const record = new LastReport(join(dir, 'fleet-report.json'));
    expect(await record.read()).toBeNull();
    await record.write('abc', NOW);
    expect(await record.read()).toEqual({ version: 1, digest: 'abc', reportedAt: NOW.toISOString() });
    expect((await stat(record.file)).mode & 0o777).toBe(0o600);
    await writeFile(record.file, '{"digest": 1}');
    expect(await record.read()).toBeNull();
  });
});
