// The file as Prometheus gets it: written through the plugin, loaded as the CLI loads it, then served by Debian's
// real node_exporter (textfile collector only) and scraped over HTTP.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus } from '@certsmith/core';
import { labDir, startNodeExporter, type NodeExporter } from '@certsmith/testlab';
import { SAMPLE_REPORT, SAMPLE_STATUS, SAMPLE_VALIDATIONS } from '../test/sample-run.js';
import { samplesOf, valueOf } from '@certsmith/testlab';
import { manifest } from './index.js';

describe('the metrics file through node_exporter', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let exporter: NodeExporter;
  beforeAll(async () => {
    dir = await labDir('node-exporter');
    exporter = await startNodeExporter({ textfileDir: dir.path });
  });
  afterAll(async () => {
    await exporter?.stop();
    await dir?.cleanup();
  });

  it('serves every certsmith metric with its value, and the collector reports no error', async () => {
    const file = join(dir.path, 'certsmith.prom');
    const config = completeConfig({ hostname: 'host.example.test', paths: { stateDir: dir.path } }, join(dir.path, 'config.json'));
    const root = new Container();
    root.bind(TOKENS.Config).toConstantValue(config);
    const bus = createBus();
    const [sink] = (await contributionsOf(manifest, { file }, config, root, bus)).statusSinks;
    sink!.listen?.(bus);
    for (const event of SAMPLE_VALIDATIONS) bus.emit('validated', event);
    expect(await sink!.publish(SAMPLE_STATUS, SAMPLE_REPORT, AbortSignal.timeout(5_000))).toEqual({ detail: `metrics written to ${file}` });

    const page = await exporter.scrape();
    const samples = samplesOf(page);
    expect(valueOf(samples, 'node_textfile_scrape_error'), exporter.log()).toBe(0);
    expect(valueOf(samples, 'node_textfile_mtime_seconds', { file })).toBeGreaterThan(0);
    expect(page).toContain('# HELP certsmith_certificate_days_left Whole days until the installed certificate expires');
    expect(valueOf(samples, 'certsmith_certificate_not_after_timestamp_seconds', { service: 'cpanel', issuer: "CN=R11, O=Let's Encrypt, C=US" })).toBe(
      Date.parse('2027-01-25T00:00:00Z') / 1000,
    );
    expect(valueOf(samples, 'certsmith_certificate_days_left', { target: 'hostname', service: 'dovecot' })).toBe(4);
    expect(valueOf(samples, 'certsmith_certificate_renewal_due', { service: 'dovecot', rule: 'self-signed' })).toBe(1);
    expect(valueOf(samples, 'certsmith_certificate_self_signed', { service: 'dovecot' })).toBe(1);
    expect(valueOf(samples, 'certsmith_certificate_missing_names', { service: 'exim' })).toBe(2);
    expect(valueOf(samples, 'certsmith_pending_orders', { issuer: 'letsencrypt' })).toBe(2);
    expect(valueOf(samples, 'certsmith_pending_order_longest_wait_seconds', { issuer: 'letsencrypt' })).toBe(7200);
    expect(valueOf(samples, 'certsmith_last_run_end_timestamp_seconds')).toBe(Date.parse(SAMPLE_REPORT.finishedAt) / 1000);
    expect(valueOf(samples, 'certsmith_last_run_duration_seconds')).toBe(42.5);
    expect(valueOf(samples, 'certsmith_last_run_exit_code')).toBe(1);
    expect(valueOf(samples, 'certsmith_last_run_interrupted')).toBe(0);
    expect(valueOf(samples, 'certsmith_last_run_target_result', { target: 'hostname', result: 'failed' })).toBe(1);
    expect(valueOf(samples, 'certsmith_last_run_dcv_failures', { code: 'DCV_HTTP_NOT_FOUND', over: 'http' })).toBe(2);
    expect(valueOf(samples, 'certsmith_last_run_dcv_failures', { code: 'UNCLASSIFIED', over: 'dns' })).toBe(1);
  });
});
