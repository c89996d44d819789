import type { FleetView, RateLimitEntry, StatusReport, TargetStatus } from '@certsmith/core';

const DAY = 86_400_000;
/** A host that has not reported for longer than this is said to be silent: its timer or its link may be broken. */
export const SILENT_AFTER_MS = 2 * DAY;
/** A certificate with fewer days left than this is listed even when renewal is not due yet by its own rule. */
const EXPIRING_DAYS = 7;

export type FleetItemKind = 'expired' | 'silent' | 'defective' | 'expiring' | 'due' | 'held' | 'pending';

/** One line of `fleet status`: something on one host that a person may have to look at. */
export interface FleetItem {
  kind: FleetItemKind;
  host: string;
  target?: string;
  service?: string;
  /** Days left of the certificate, or how long the order has waited / the host has been silent, in days. */
  days?: number;
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

/** What a fleet's view says, sorted so that the worst is on top; `now` decides what is silent or expired. */
export function fleetReport(view: FleetView, now: Date): FleetReport {
  const items: FleetItem[] = [];
  const warnings = [...view.warnings];
  let certificates = 0;
  for (const { host, reportedAt, status: reported } of view.hosts) {
    const status = wellFormed(host, reported, warnings);
    const silentMs = now.getTime() - Date.parse(reportedAt);
    if (!(silentMs <= SILENT_AFTER_MS)) {
      const days = Number.isFinite(silentMs) ? Math.floor(silentMs / DAY) : undefined;
      items.push({ kind: 'silent', host, days, detail: `no report since ${reportedAt}` });
    }
    certificates += status.targets.reduce((n, t) => n + t.services.filter((s) => s.certificate).length, 0);
    items.push(...certificateItems(host, status), ...pendingItems(host, status), ...heldItems(host, status));
  }
  const rank = (item: FleetItem) => ORDER.indexOf(item.kind);
  // Within a kind: the fewest days left first; for waits and silence the longest first.
  const byDays = (a: FleetItem, b: FleetItem) => (a.kind === 'silent' || a.kind === 'pending' ? (b.days ?? 0) - (a.days ?? 0) : (a.days ?? 0) - (b.days ?? 0));
  items.sort((a, b) => rank(a) - rank(b) || byDays(a, b) || a.host.localeCompare(b.host) || (a.target ?? '').localeCompare(b.target ?? ''));
  const counts = Object.fromEntries(ORDER.map((k) => [k, items.filter((i) => i.kind === k).length])) as Record<FleetItemKind, number>;
  return {
    summary: { hosts: view.hosts.length, certificates, counts, rateLimits: view.rateLimits.length },
    items,
    hosts: view.hosts
      .map((h) => ({
        host: h.host,
        reportedAt: h.reportedAt,
        targets: h.status.targets.length,
        silent: !(now.getTime() - Date.parse(h.reportedAt) <= SILENT_AFTER_MS),
      }))
      .sort((a, b) => a.host.localeCompare(b.host)),
    rateLimits: [...view.rateLimits].sort((a, b) => a.until.localeCompare(b.until)),
    warnings,
  };
}

/** The host's status with the targets a person can read; one that is not shaped like a status entry is said, not fatal. */
function wellFormed(host: string, status: StatusReport, warnings: string[]): StatusReport {
  const entry = (t: TargetStatus | null | undefined): boolean =>
    !!t &&
    typeof t.target === 'string' &&
    Array.isArray(t.pending) &&
    (!t.lastRun || Array.isArray(t.lastRun.failures)) &&
    Array.isArray(t.services) &&
    t.services.every((s) => !!s && !!s.renewal && Array.isArray(s.missingNames));
  const targets = status.targets.filter(entry);
  const left = status.targets.length - targets.length;
  if (left) warnings.push(`host ${host}: ${left} target(s) in its status are not status entries: left out`);
  return left ? { ...status, targets } : status;
}

function certificateItems(host: string, status: StatusReport): FleetItem[] {
  const items: FleetItem[] = [];
  for (const target of status.targets) {
    for (const service of target.services) {
      const at = { host, target: target.target, service: service.service };
      const { certificate, daysLeft, renewal } = service;
      if (!certificate) items.push({ ...at, kind: 'defective', detail: renewal.reason || 'no certificate' });
      else if (daysLeft !== null && daysLeft <= 0) items.push({ ...at, kind: 'expired', days: daysLeft, detail: `expired ${certificate.notAfter}` });
      else if (certificate.selfSigned || service.missingNames.length)
        items.push({ ...at, kind: 'defective', days: daysLeft ?? undefined, detail: defectOf(service.missingNames, certificate.selfSigned) });
      else if (daysLeft !== null && daysLeft < EXPIRING_DAYS)
        items.push({ ...at, kind: 'expiring', days: daysLeft, detail: `expires ${certificate.notAfter} (${renewal.reason})` });
      else if (renewal.due) items.push({ ...at, kind: 'due', days: daysLeft ?? undefined, detail: renewal.reason });
    }
  }
  return items;
}

function defectOf(missingNames: string[], selfSigned: boolean): string {
  const missing = missingNames.length ? `does not cover ${missingNames.join(', ')}` : '';
  return [selfSigned ? 'self-signed' : '', missing].filter(Boolean).join('; ');
}

function pendingItems(host: string, status: StatusReport): FleetItem[] {
  return status.targets.flatMap((target) =>
    target.pending.map((p) => ({
      kind: 'pending' as const,
      host,
      target: target.target,
      days: Math.floor(p.waitedSeconds / 86_400),
      detail: `order at "${p.issuer}" pending for ${formatWait(p.waitedSeconds)}${p.heldBy ? `: ${p.heldBy}` : ''}`,
    })),
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
