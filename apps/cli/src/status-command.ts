import { formatAge } from '@certsmith/core';
import { reportUsageError } from './command-line.js';
import { compose, type Overrides } from './compose.js';
import type { ServiceStatus, StatusHead, TargetStatus } from '@certsmith/core';
import { streamStatus } from './status.js';

export interface StatusOptions {
  configFile: string;
  json: boolean;
  /** --target: ids or names; empty for all. */
  targets: string[];
  overrides?: Overrides;
}

/**
 * `certsmith status`: the state of every target's certificates from files and state only (no network, no lock, nothing
 * written). Returns the exit code: 0, or 2 for a config or state that cannot be read (one line naming the file).
 */
export async function runStatus(options: StatusOptions): Promise<number> {
  // One write per few hundred lines: 10,000 targets print 50,000 lines.
  const lines: string[] = [];
  const flush = () => {
    if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
    lines.length = 0;
  };
  const out = (line: string) => {
    lines.push(line);
    if (lines.length >= 500) flush();
  };
  const printer = options.json ? jsonPrinter(out) : humanPrinter(out);
  try {
    await streamStatus(await compose(options.configFile, options.overrides), options.targets, printer);
  } catch (error) {
    return reportUsageError(error, { anyCertsmithError: true });
  }
  printer.end();
  flush();
  return 0;
}

type Printer = { head(head: StatusHead): void; target(target: TargetStatus): void; end(): void };

/**
 * One JSON document, written as the targets come: the head indented, then each target on one line (10,000 targets
 * indented would be a 15 MB string; one line per target also suits grep).
 */
function jsonPrinter(out: (line: string) => void): Printer {
  let previous: string | null = null;
  return {
    head: (head) => {
      const opening = JSON.stringify({ ...head, targets: [] }, null, 2);
      out(`${opening.slice(0, opening.lastIndexOf('[]'))}[`);
    },
    target: (target) => {
      if (previous !== null) out(`${previous},`);
      previous = `    ${JSON.stringify(target)}`;
    },
    end: () => {
      if (previous !== null) out(previous);
      out('  ]\n}');
    },
  };
}

function humanPrinter(out: (line: string) => void): Printer {
  return { head: (head) => printHead(head, out), target: (target) => printTarget(target, out), end: () => undefined };
}

function printHead(report: StatusHead, out: (line: string) => void): void {
  const now = Date.parse(report.now);
  out(`certsmith status on ${report.hostname} (${report.config}), ${minutes(report.now)}`);
  if (report.lastRun) {
    const { finishedAt, exitCode, targets } = report.lastRun;
    out(
      `Last run: finished ${minutes(finishedAt)} (${formatAge(now - Date.parse(finishedAt))} ago), exit ${exitCode}, ${targets} target${targets === 1 ? '' : 's'}`,
    );
  } else out('Last run: none recorded yet (certsmith check writes it)');
}

function printTarget(target: TargetStatus, out: (line: string) => void): void {
  const last = target.lastRun ? `last run: ${target.lastRun.result} (${minutes(target.lastRun.at)})` : 'last run: none recorded';
  out('');
  out(`${target.target} (${target.names.join(', ')}): ${last}`);
  const width = Math.max(0, ...target.services.map((s) => s.service.length));
  for (const service of target.services) out(`  ${service.service.padEnd(width)}  ${serviceLine(service)}`);
  for (const order of target.pending)
    out(`  pending at "${order.issuer}" for ${formatAge(order.waitedSeconds * 1000)}: ${order.order} (${order.names.join(', ')}), held by ${order.heldBy}`);
  for (const dropped of target.lastRun?.dropped ?? []) out(`  dropped: ${dropped.name}: ${dropped.code}: ${dropped.reason}`);
  for (const failure of (target.lastRun?.failures ?? []).filter((f) => !f.name))
    out(`  last run ${failure.severity}: ${failure.code}${failure.service ? ` (${failure.service})` : ''}: ${failure.message}`);
}

function serviceLine(s: ServiceStatus): string {
  const renewal = s.renewal.due
    ? `renewal due (${s.renewal.rule}: ${s.renewal.reason}${s.renewal.dueAt && s.renewal.rule !== 'expired' ? `, since ${minutes(s.renewal.dueAt)}` : ''})`
    : `not due (${s.renewal.rule}: due ${minutes(s.renewal.dueAt!)}, ${s.renewal.reason})`;
  if (!s.certificate) return `no certificate: ${s.renewal.reason}`;
  const parts = [
    `issuer ${s.certificate.issuer}${s.certificate.selfSigned ? ' (self-signed)' : ''}`,
    ...(s.profile ? [`profile ${s.profile}`] : []),
    `not after ${minutes(s.certificate.notAfter)}`,
    `${s.daysLeft} day${s.daysLeft === 1 ? '' : 's'} left`,
    renewal,
  ];
  if (s.missingNames.length) parts.push(`does not cover ${s.missingNames.join(', ')}`);
  return parts.join('; ');
}

/** An ISO time to the minute, as a person reads it: 2026-12-06 03:05 UTC. */
function minutes(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
