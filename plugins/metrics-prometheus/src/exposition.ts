import { Registry } from 'prom-client';
import type { RunReport, StatusReport } from '@certsmith/core';
import { recordCertificates } from './certificate-metrics.js';
import type { DcvFailureCount } from './dcv-failure-tally.js';
import { gaugesIn } from './gauges.js';
import { recordPendingOrders } from './order-metrics.js';
import { recordDcvFailures, recordRun } from './run-metrics.js';

/** The run's metrics in Prometheus' text exposition format, from a registry of their own (no process metrics). */
export async function metricsText(prefix: string, status: StatusReport, report: RunReport, dcvFailures: DcvFailureCount[]): Promise<string> {
  const registry = new Registry();
  const gauge = gaugesIn(registry, prefix);
  recordCertificates(gauge, status);
  recordPendingOrders(gauge, status);
  recordRun(gauge, report);
  recordDcvFailures(gauge, dcvFailures);
  return registry.metrics();
}
