import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writePrivateFileAtomic, type StatusReport } from '@certsmith/core';
import type { FleetSettings } from './options.js';

/**
 * A host whose status did not change still reports this often: a host that runs at least daily is heard from well
 * within the two days after which `fleet status` says it is silent.
 */
export const HEARTBEAT_MS = 12 * 3_600_000;

/** What the fleet last acknowledged of this host's status. */
export interface ReportRecord {
  version: 1;
  digest: string;
  reportedAt: string;
  /** The status went in parts (or old parts could not be removed): the next report looks for parts to remove. */
  parts?: boolean;
}

/** Where the status goes: a report acknowledged by another server or bucket, or under another key, is not one here. */
export function reportDestination(settings: Pick<FleetSettings, 'servers' | 'statusBucket' | 'host'>): string {
  return `${settings.servers.join(',')} ${settings.statusBucket} ${settings.host}`;
}

/**
 * The status as the fleet needs to hear of it: without what the clock alone changes at every run (when the report
 * was made, when the last run started and finished), and with where it goes (reportDestination).
 */
export function statusDigest(status: StatusReport, destination: string): string {
  const stable = {
    ...status,
    now: undefined,
    lastRun: status.lastRun && { exitCode: status.lastRun.exitCode, targets: status.lastRun.targets },
    targets: status.targets.map((t) => ({ ...t, lastRun: t.lastRun && { ...t.lastRun, at: undefined } })),
  };
  return createHash('sha256').update(destination).update('\n').update(JSON.stringify(stable)).digest('hex');
}

export interface ReportFacts {
  /** The run has events to send (an order, an install, a failure ...: any but the routine inspections). */
  telling: boolean;
  /** The spool holds what an earlier run could not send. */
  spooled: boolean;
  status: StatusReport;
  digest: string;
  last: ReportRecord | null;
  now: Date;
}

/**
 * Whether this run reports to the fleet: when it has something to tell, something waits in the spool, an order is
 * pending (its wait is news), the status changed since the fleet last acknowledged it, or that was a heartbeat ago.
 */
export function mustReport(facts: ReportFacts): boolean {
  const { last } = facts;
  if (facts.telling || facts.spooled || !last || last.digest !== facts.digest) return true;
  if (facts.status.targets.some((t) => t.pending.length > 0)) return true;
  const age = facts.now.getTime() - Date.parse(last.reportedAt);
  // A record from the future (a clock set back) is no proof of a recent report.
  return !(age >= 0 && age < HEARTBEAT_MS);
}

/** The record of the last acknowledged report, in the state directory (0600); unreadable, it is as if none. */
export class LastReport {
  constructor(readonly file: string) {}

  async read(): Promise<ReportRecord | null> {
    try {
      const value = JSON.parse(await readFile(this.file, 'utf8')) as Partial<ReportRecord> | null;
      if (value?.version === 1 && typeof value.digest === 'string' && typeof value.reportedAt === 'string') return value as ReportRecord;
    } catch {
      // missing or not a record: the run reports
    }
    return null;
  }

  /** The same record saying parts may remain: written before a status's parts, as a run may die before its head. */
  markParts(record: ReportRecord): Promise<void> {
    return writePrivateFileAtomic(this.file, `${JSON.stringify({ ...record, parts: true })}\n`);
  }

  write(digest: string, reportedAt: Date, parts = false): Promise<void> {
    const record: ReportRecord = { version: 1, digest, reportedAt: reportedAt.toISOString(), ...(parts && { parts: true }) };
    return writePrivateFileAtomic(this.file, `${JSON.stringify(record)}\n`);
  }
}
