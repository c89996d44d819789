import type { FailedEvent, RunReport, ServiceReport, TargetReport } from '@certsmith/core';

/** One line of a service's table: what was wrong and what the run did about it. */
export interface NoticeRow {
  code: string;
  detail: string;
  done: string;
}

/** One table of the message: a service of a target. */
export interface ServiceNotice {
  target: string;
  names: string[];
  service: string;
  /** The certificate the service had when it was inspected, in one line; null when it had none. */
  certificate: string | null;
  rows: NoticeRow[];
}

/** What one run has to tell the administrator; null from buildNotice when there is nothing. */
export interface Notice {
  hostname: string;
  startedAt: string;
  finishedAt: string;
  logFile: string | null;
  /** cPanel's separate notices, in sentences: expiring in under 30 days, expired and replaced by a self-signed one. */
  notices: string[];
  services: ServiceNotice[];
  /** Keys (target/service/fingerprint) of the "will expire" notices included, for the repeat ledger. */
  expiryKeys: string[];
}

export interface NoticeOptions {
  /** "will expire in less than N days" (cPanel: 30). */
  expiryNoticeDays: number;
  /** Whether a "will expire" notice for this key went out recently (then it is not repeated yet). */
  recentlyNoticed?: (key: string) => boolean;
}

const DAY = 86_400_000;

/**
 * How close to its expiry a certificate gets a "will expire" notice: the configured days, or a third of its lifetime
 * when that is shorter. A 6-day certificate lives its whole life inside 30 days; it is worth a notice only when its
 * renewal is overdue, not once per certificate.
 */
function noticeDays(summary: { notBefore: string; notAfter: string }, configured: number): number {
  const lifetimeDays = (new Date(summary.notAfter).getTime() - new Date(summary.notBefore).getTime()) / DAY;
  return Number.isFinite(lifetimeDays) && lifetimeDays > 0 ? Math.min(configured, lifetimeDays / 3) : configured;
}
const EXPIRY_CODES = new Set(['EXPIRED', 'ALMOST_EXPIRED', 'CA_CERTIFICATE_ALMOST_EXPIRED']);

/**
 * Turns a run report into the message's content: one table per service that produced a warning or an error.
 * A target under disable_service_certificate_management (result 'unmanaged') gets no expiry notices, as in cPanel.
 */
export function buildNotice(report: RunReport, options: NoticeOptions): Notice | null {
  const now = new Date(report.startedAt).getTime();
  const notices: string[] = [];
  const services: ServiceNotice[] = [];
  const expiryKeys: string[] = [];
  for (const target of report.targets) {
    const unmanaged = target.result === 'unmanaged';
    const primary = target.names[0] ?? target.target;
    const targetRows = targetLevelRows(target);
    let targetRowsPlaced = targetRows.length === 0;
    for (const service of target.services) {
      const inspect = service.inspect;
      const summary = inspect?.summary ?? null;
      const outcome = outcomeOf(target, service);
      const rows: NoticeRow[] = [];
      for (const defect of inspect?.defects ?? []) {
        if (defect.severity === 'info') continue;
        if (unmanaged && EXPIRY_CODES.has(defect.code)) continue;
        rows.push({
          code: defect.cpanel ? `${defect.code} (${defect.cpanel})` : defect.code,
          detail: defect.message,
          done: inspect?.action === 'keep' ? keptWhy(target) : outcome,
        });
      }
      for (const failure of service.failures) rows.push(failureRow(failure));
      const codes = new Set(inspect?.defects.map((d) => d.code));
      if (summary && !unmanaged) {
        const daysLeft = (new Date(summary.notAfter).getTime() - now) / DAY;
        if (codes.has('EXPIRED') && service.installed && !service.installed.dryRun && target.issued?.status === 'issued' && target.issued.selfSigned) {
          notices.push(`The ${service.service} certificate for ${primary} expired on ${utc(summary.notAfter)}; a new self-signed certificate was installed.`);
        } else if (
          daysLeft > 0 &&
          daysLeft < noticeDays(summary, options.expiryNoticeDays) &&
          !service.installed &&
          !options.recentlyNoticed?.(expiryKey(target, service.service, summary.fingerprint))
        ) {
          expiryKeys.push(expiryKey(target, service.service, summary.fingerprint));
          notices.push(
            `The ${service.service} certificate for ${primary} will expire in less than ${options.expiryNoticeDays} days (on ${utc(summary.notAfter)}, ${daysLeft.toFixed(1)} days from now).`,
          );
          if (!codes.has('ALMOST_EXPIRED')) {
            rows.push({
              code: 'EXPIRES_SOON',
              detail: `the certificate expires on ${utc(summary.notAfter)}, in ${daysLeft.toFixed(1)} days`,
              done: inspect?.action === 'keep' ? keptWhy(target) : outcome,
            });
          }
        }
      }
      // Failures of the target as a whole (issuer, DCV, dropped names) belong to the services the run tried to fix.
      if (!targetRowsPlaced && inspect && inspect.action !== 'keep') rows.push(...targetRows);
      if (rows.length === 0) continue;
      if (inspect && inspect.action !== 'keep') targetRowsPlaced = true;
      services.push({
        target: target.target,
        names: target.names,
        service: service.service,
        rows,
        certificate: summary ? `${summary.subject}, issued by ${summary.issuer}, expires ${utc(summary.notAfter)}` : null,
      });
    }
    if (!targetRowsPlaced) {
      services.push({ target: target.target, names: target.names, service: `(target ${target.target})`, certificate: null, rows: targetRows });
    }
  }
  // The administrator hears of a run stopped by a signal even when what it finished had nothing to report.
  if (report.interrupted) {
    const left = report.targets.filter((t) => t.result === 'interrupted').map((t) => t.target);
    notices.push(
      `The run was interrupted (${report.interrupted}) before it finished${left.length ? `; not done: ${left.join(', ')}` : ''}. Nothing is left half-installed; the next run carries on.`,
    );
  }
  if (services.length === 0 && notices.length === 0) return null;
  return {
    hostname: report.hostname,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    logFile: report.logFile ?? null,
    notices,
    services,
    expiryKeys,
  };
}

function expiryKey(target: TargetReport, service: string, fingerprint: string): string {
  return `${target.target}/${service}/${fingerprint}`;
}

/** The subject cPanel uses, counting the services with warnings. */
export function subjectOf(notice: Notice): string {
  return `${notice.services.length} service(s) generated warnings while checking SSL certificates.`;
}

function targetLevelRows(target: TargetReport): NoticeRow[] {
  const rows = target.failures.map(failureRow);
  const failedNames = new Set(target.failures.map((f) => f.name).filter(Boolean));
  for (const v of target.validations) {
    if (!v.ok && !failedNames.has(v.name))
      rows.push({ code: 'NAME_DROPPED', detail: `${v.name}: ${v.reason ?? 'did not pass local DCV'}`, done: 'left out of the certificate' });
  }
  return rows;
}

function failureRow(failure: FailedEvent): NoticeRow {
  const where = [failure.issuer && `issuer ${failure.issuer}`, failure.name].filter(Boolean).join(', ');
  return { code: failure.code, detail: `${where ? `${where}: ` : ''}${failure.message}`, done: failure.next };
}

/** What the run did for a service it meant to fix. */
function outcomeOf(target: TargetReport, service: ServiceReport): string {
  if (service.installed) {
    const issued = target.issued?.status === 'issued' ? target.issued : undefined;
    const what = issued?.selfSigned ? 'self-signed certificate' : issued ? `certificate from "${issued.issuer}"` : 'new certificate';
    if (service.installed.dryRun) return `would install a ${what}`;
    return `${what} installed${issued ? ` (expires ${utc(issued.summary.notAfter)})` : ''}${service.installed.reloaded ? ', service reloaded' : ''}`;
  }
  // Written and taken back (the reload or the live proof failed): the run's report marks it, the mail says it.
  if (service.rolledBack) return 'new certificate rolled back: the previous certificate stays (see the errors in this table)';
  switch (target.result) {
    case 'pending':
      return target.actions.join('; ') || 'order pending; resumed by the next run';
    case 'planned':
      return target.actions.join('; ') || 'dry run: nothing changed';
    case 'kept':
      return 'current certificate kept: no CA-signed certificate could be had';
    case 'unmanaged':
      return 'not replaced: disable_service_certificate_management is set';
    default:
      return service.failures.length
        ? 'not replaced (see the errors in this table)'
        : `not replaced: ${target.actions.join('; ') || 'no issuer produced a certificate'}`;
  }
}

function keptWhy(target: TargetReport): string {
  return target.result === 'unmanaged' ? 'not replaced: disable_service_certificate_management is set' : 'kept: it does not call for a replacement';
}

function utc(iso: string): string {
  return `${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC`;
}
