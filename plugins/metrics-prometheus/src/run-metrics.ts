import type { FailedEvent, RunReport, TargetResult } from '@certsmith/core';
import type { DcvFailureCount } from './dcv-failure-tally.js';
import { flag, unixSeconds, type GaugeDeclarer } from './gauges.js';

/** Every result a target can end with: each target gets all of them, 1 for its own and 0 for the others. */
const RESULTS: readonly TargetResult[] = ['healthy', 'replaced', 'pending', 'kept', 'unmanaged', 'planned', 'skipped', 'interrupted', 'failed'];

/** The run that just ended: when, how long, how it ended, per target, and what went wrong. */
export function recordRun(gauge: GaugeDeclarer, report: RunReport): void {
  gauge('last_run_end_timestamp_seconds', 'When the last certsmith run finished (Unix seconds).', []).set(unixSeconds(report.finishedAt));
  const took = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  gauge('last_run_duration_seconds', 'How long the last certsmith run took, in seconds.', []).set(took);
  gauge('last_run_exit_code', "The last run's exit code: 0 every target healthy or fixed, 1 some target failed.", []).set(report.exitCode);
  gauge('last_run_interrupted', '1 when a signal (SIGINT, SIGTERM) stopped the last run; else 0.', []).set(flag(report.interrupted !== undefined));
  const result = gauge('last_run_target_result', 'How each target ended in the last run: 1 for its result, 0 for the others.', ['target', 'result']);
  const failures = gauge('last_run_failures', 'Errors and warnings of the last run, per target, stage and code.', ['target', 'stage', 'code', 'severity']);
  for (const target of report.targets) {
    for (const each of RESULTS) result.set({ target: target.target, result: each }, flag(target.result === each));
    const all: FailedEvent[] = [...target.failures, ...target.services.flatMap((s) => s.failures)];
    for (const failure of all) failures.inc({ target: target.target, stage: failure.stage, code: failure.code, severity: failure.severity });
  }
}

/** The DCV verdicts that failed during the last run, by their reason's code. */
export function recordDcvFailures(gauge: GaugeDeclarer, counts: DcvFailureCount[]): void {
  const failures = gauge('last_run_dcv_failures', 'Failed domain control validations in the last run, by target, method, transport and code.', [
    'target',
    'method',
    'over',
    'code',
  ]);
  for (const { count, ...labels } of counts) failures.set(labels, count);
}
