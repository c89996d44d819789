import type { FleetHostReport, FleetView, LastRunTarget, PendingStatus, RateLimitEntry, ServiceStatus, StatusReport, TargetStatus } from '@certsmith/core';

const DAY = 86_400_000;
/** A host that has not reported for longer than this is said to be silent: its timer or its link may be broken. */
export const SILENT_AFTER_MS = 2 * DAY;
/** A certificate with fewer days left than this is listed even when renewal is not due yet by its own rule. */
const EXPIRING_DAYS = 7;
/** How far ahead of the store's clock a host's may be before its report is said to come from the future. */
const CLOCK_AHEAD_MS = 5 * 60_000;

export type FleetItemKind = 'expired' | 'silent' | 'defective' | 'expiring' | 'due' | 'held' | 'pending';

/** One line of `fleet status`: something on one host that a person may have to look at. */
export interface FleetItem {
  kind: FleetItemKind;
  host: string;
  target?: string;
  service?: string;
  /** Days left of the certificate, or how long the order has waited / the host has been silent, in days. */
  days?: number;
  /** The same in seconds, by the viewer's clock: what items of a kind are sorted by. */
  seconds?: number;
  detail: string;
}

export interface FleetSummary {
  hosts: number;
  certificates: number;
  counts: Record<FleetItemKind, number>;
  rateLimits: number;
}

export interface FleetReport {
  summary: FleetSummary;
  /** Worst first: expired, silent hosts, defective, expiring, due, held back by a rate limit, pending. */
  items: FleetItem[];
  hosts: { host: string; reportedAt: string; targets: number; silent: boolean }[];
  rateLimits: (RateLimitEntry & { host?: string })[];
  warnings: string[];
}

const ORDER: FleetItemKind[] = ['expired', 'silent', 'defective', 'expiring', 'due', 'held', 'pending'];

/**
 * What a fleet's view says, sorted so that the worst is on top. Every figure is taken again against `now` (the
 * viewer's clock) from the dates the host reported, not from the figures it worked out when it reported: a silent
 * host's "2 days left" may be long gone. Silence, and what an order has waited since the host measured it, are
 * judged by when the store received the report, when it says so.
 */
export function fleetReport(view: FleetView, now: Date): FleetReport {
  const items: FleetItem[] = [];
  const warnings = [...view.warnings];
  let certificates = 0;
  const hosts: FleetReport['hosts'] = [];
  for (const reported of view.hosts) {
    const { host, reportedAt } = reported;
    const status = wellFormed(host, reported.status, warnings);
    const silence = silenceOf(reported, now, warnings);
    if (silence) items.push(silence);
    certificates += status.targets.reduce((n, t) => n + t.services.filter((s) => s.certificate).length, 0);
    items.push(...certificateItems(host, status, now), ...pendingItems(reported, status, now), ...heldItems(host, status));
    hosts.push({ host, reportedAt, targets: status.targets.length, silent: silence !== null });
  }
  const rank = (item: FleetItem) => ORDER.indexOf(item.kind);
  // Within a kind: the least time left first (no certificate at all before any); for waits and silence the longest first.
  const bySeconds = (a: FleetItem, b: FleetItem) =>
    a.kind === 'silent' || a.kind === 'pending' ? (b.seconds ?? 0) - (a.seconds ?? 0) : (a.seconds ?? -Infinity) - (b.seconds ?? -Infinity);
  items.sort((a, b) => rank(a) - rank(b) || bySeconds(a, b) || a.host.localeCompare(b.host) || (a.target ?? '').localeCompare(b.target ?? ''));
  const counts = Object.fromEntries(ORDER.map((k) => [k, items.filter((i) => i.kind === k).length])) as Record<FleetItemKind, number>;
  return {
    summary: { hosts: view.hosts.length, certificates, counts, rateLimits: view.rateLimits.length },
    items,
    hosts: hosts.sort((a, b) => a.host.localeCompare(b.host)),
    rateLimits: [...view.rateLimits].sort((a, b) => a.until.localeCompare(b.until)),
    warnings,
  };
}

/**
 * The silent item of a host whose last report arrived more than two days before `now`, else null. The store's time
 * of arrival rules (a host whose clock runs ahead would never look silent by its own); a host clock ahead of the
 * store's by more than a few minutes is said. An unreadable time counts as silent rather than fresh.
 */
function silenceOf({ host, reportedAt, receivedAt }: FleetHostReport, now: Date, warnings: string[]): FleetItem | null {
  const arrivedAt = receivedAt ?? reportedAt;
  const ahead = receivedAt === undefined ? 0 : Date.parse(reportedAt) - Date.parse(receivedAt);
  if (ahead > CLOCK_AHEAD_MS)
    warnings.push(
      `host ${host}: its report says it was written at ${reportedAt}, ${formatWait(ahead / 1000)} after the fleet received it (${receivedAt}): its clock runs ahead`,
    );
  const silentMs = now.getTime() - Date.parse(arrivedAt);
  if (silentMs <= SILENT_AFTER_MS) return null;
  const known = Number.isFinite(silentMs);
  const since = arrivedAt === reportedAt ? arrivedAt : `${arrivedAt} (written at ${reportedAt} by its clock)`;
  return {
    kind: 'silent',
    host,
    days: known ? Math.floor(silentMs / DAY) : undefined,
    ...(known ? { seconds: Math.floor(silentMs / 1000) } : {}),
    detail: `no report since ${since}`,
  };
}

type Failure = LastRunTarget['failures'][number];

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object';
const isDate = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v));

function isSoundService(s: ServiceStatus | null | undefined): boolean {
  if (!s || typeof s.service !== 'string' || !Array.isArray(s.missingNames) || !isObject(s.renewal)) return false;
  const { certificate, renewal } = s;
  if (typeof renewal.reason !== 'string' || (renewal.dueAt != null && !isDate(renewal.dueAt))) return false;
  return certificate === null || (isObject(certificate) && isDate(certificate.notAfter));
}

const isSoundPending = (p: PendingStatus | null | undefined): boolean =>
  !!p && typeof p.issuer === 'string' && isDate(p.createdAt) && (p.heldBy === undefined || typeof p.heldBy === 'string');

const isSoundFailure = (f: Failure | null | undefined): boolean => !!f && typeof f.code === 'string' && typeof f.message === 'string';

/**
 * The host's status with only what this view can read: a fleet plugin checks what it reads, but a view from another
 * must not crash `fleet status` either. What is left out is said once for the host.
 */
function wellFormed(host: string, status: StatusReport, warnings: string[]): StatusReport {
  if (!isObject(status) || !Array.isArray(status.targets)) {
    warnings.push(`host ${host}: its status has no list of targets: none listed`);
    return { ...(status as StatusReport | null), targets: [] } as StatusReport;
  }
  let left = 0;
  const keep = <T>(items: T[], sound: (item: T) => boolean): T[] => {
    const kept = items.filter(sound);
    left += items.length - kept.length;
    return kept;
  };
  const targets = keep(
    status.targets,
    (t: TargetStatus | null) =>
      isObject(t) && typeof t.target === 'string' && Array.isArray(t.pending) && Array.isArray(t.services) && (!t.lastRun || Array.isArray(t.lastRun.failures)),
  ).map((t) => ({
    ...t,
    services: keep(t.services, isSoundService),
    pending: keep(t.pending, isSoundPending),
    lastRun: t.lastRun ? { ...t.lastRun, failures: keep(t.lastRun.failures, isSoundFailure) } : null,
  }));
  if (left) warnings.push(`host ${host}: ${left} entries of its status are not sound: left out`);
  return { ...status, targets };
}

function certificateItems(host: string, status: StatusReport, now: Date): FleetItem[] {
  const items: FleetItem[] = [];
  for (const target of status.targets) {
    for (const service of target.services) {
      const at = { host, target: target.target, service: service.service };
      const { certificate, renewal } = service;
      if (!certificate) {
        items.push({ ...at, kind: 'defective', detail: renewal.reason || 'no certificate' });
        continue;
      }
      const leftMs = Date.parse(certificate.notAfter) - now.getTime();
      const left = { days: Math.floor(leftMs / DAY), seconds: Math.floor(leftMs / 1000) };
      const dueSince = renewal.dueAt !== null && renewal.dueAt !== undefined && Date.parse(renewal.dueAt) <= now.getTime();
      if (leftMs <= 0) items.push({ ...at, kind: 'expired', ...left, detail: `expired ${certificate.notAfter}` });
      else if (certificate.selfSigned || service.missingNames.length)
        items.push({ ...at, kind: 'defective', ...left, detail: defectOf(service.missingNames, certificate.selfSigned) });
      else if (leftMs < EXPIRING_DAYS * DAY) items.push({ ...at, kind: 'expiring', ...left, detail: `expires ${certificate.notAfter} (${renewal.reason})` });
      else if (renewal.due || dueSince) items.push({ ...at, kind: 'due', ...left, detail: renewal.due ? renewal.reason : `due since ${renewal.dueAt}` });
    }
  }
  return items;
}

function defectOf(missingNames: string[], selfSigned: boolean): string {
  const missing = missingNames.length ? `does not cover ${missingNames.join(', ')}` : '';
  return [selfSigned ? 'self-signed' : '', missing].filter(Boolean).join('; ');
}

/**
 * Each pending order with how long it has waited by now: the wait the host measured when it reported, plus the time
 * since the store received that report (the viewer's clock against the store's, never the host's). A host's clock
 * that runs ahead or behind would shorten or lengthen a wait counted from its `createdAt`; that is used only when the
 * host gave no wait of its own or the report's time is unreadable.
 */
function pendingItems({ host, reportedAt, receivedAt }: FleetHostReport, status: StatusReport, now: Date): FleetItem[] {
  const sinceReportMs = now.getTime() - Date.parse(receivedAt ?? reportedAt);
  const waitOf = (p: PendingStatus): number =>
    Number.isFinite(p.waitedSeconds) && Number.isFinite(sinceReportMs)
      ? p.waitedSeconds + sinceReportMs / 1000
      : (now.getTime() - Date.parse(p.createdAt)) / 1000;
  return status.targets.flatMap((target) =>
    target.pending.map((p) => {
      const seconds = Math.max(0, Math.floor(waitOf(p)));
      return {
        kind: 'pending' as const,
        host,
        target: target.target,
        days: Math.floor(seconds / 86_400),
        seconds,
        detail: `order at "${p.issuer}" pending for ${formatWait(seconds)}${p.heldBy ? `: ${p.heldBy}` : ''}`,
      };
    }),
  );
}

/** Targets whose last run was held back by a rate limit, met by this host or another. */
function heldItems(host: string, status: StatusReport): FleetItem[] {
  return status.targets.flatMap((target) =>
    (target.lastRun?.failures ?? [])
      .filter((f) => f.code === 'RATE_LIMITED' || f.code.endsWith('_RATE_LIMITED'))
      .slice(0, 1)
      .map((f) => ({ kind: 'held' as const, host, target: target.target, detail: f.message })),
  );
}

function formatWait(seconds: number): string {
  if (seconds < 3_600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** The lines `fleet status` prints: the summary first, then the items worst first, then the rate limits in force. */
export function fleetLines(report: FleetReport): string[] {
  const { summary } = report;
  const c = summary.counts;
  const lines = [
    `${summary.hosts} hosts, ${summary.certificates} certificates: ${c.expired} expired, ${c.defective} defective, ${c.expiring} expiring within ${EXPIRING_DAYS} days, ${c.due} due, ${c.pending} pending orders, ${c.held} held back by a rate limit, ${c.silent} hosts silent for more than 2 days; ${summary.rateLimits} rate limits in force`,
  ];
  for (const item of report.items) {
    const where = [item.host, item.target, item.service].filter(Boolean).join(' / ');
    lines.push(`  ${item.kind.toUpperCase().padEnd(9)} ${where}: ${item.detail}`);
  }
  for (const limit of report.rateLimits) {
    const what = limit.scope === 'account' ? `account ${limit.account ?? ''}`.trim() : (limit.name ?? '');
    lines.push(`  LIMIT     "${limit.issuer}" ${what} until ${limit.until}${limit.host ? ` (met by ${limit.host})` : ''}: ${limit.kind}`);
  }
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  return lines;
}
