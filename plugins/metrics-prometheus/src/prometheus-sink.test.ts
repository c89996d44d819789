import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus, validateOptions, type StatusSink } from '@certsmith/core';
import { SAMPLE_REPORT, SAMPLE_STATUS, SAMPLE_VALIDATIONS } from '../test/sample-run.js';
import { samplesOf, valueOf } from '@certsmith/testlab';
import { manifest } from './index.js';

describe('@certsmith/metrics-prometheus', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-prometheus-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** As the CLI loads it: options checked against the schema, then its module in a child of the core's container. */
  const load = async (options: Record<string, unknown>) => {
    validateOptions(manifest.optionsSchema!, options, 'test');
    const config = completeConfig({ hostname: 'host.example.test', paths: { stateDir: dir } }, join(dir, 'config.json'));
    const root = new Container();
    root.bind(TOKENS.Config).toConstantValue(config);
    const bus = createBus();
    const contributes = await contributionsOf(manifest, options, config, root, bus);
    const sink: StatusSink = contributes.statusSinks[0]!;
    sink.listen?.(bus);
    return { sink, bus };
  };

  it('is the status sink "prometheus"; file must be an absolute *.prom path, prefix a metric name; nothing else', () => {
    const check = (options: Record<string, unknown>) => () => validateOptions(manifest.optionsSchema!, options, 'cfg');
    expect(check({ file: '/var/lib/prometheus/node-exporter/certsmith.prom' })).not.toThrow();
    expect(check({ file: '/x/certsmith.prom', prefix: 'tls_' })).not.toThrow();
    expect(check({})).toThrow(/file/);
    expect(check({ file: 'certsmith.prom' })).toThrow(/file/);
    expect(check({ file: '/x/certsmith.txt' })).toThrow(/file/);
    expect(check({ file: '/x/certsmith.prom', prefix: 'tls-' })).toThrow(/prefix/);
    expect(check({ file: '/x/certsmith.prom', port: 9100 })).toThrow(/port/);
  });

  it('writes every certificate, pending order, the run and its DCV failures by code, with HELP and TYPE lines', async () => {
    const file = join(dir, 'certsmith.prom');
    const { sink, bus } = await load({ file });
    expect(sink.id).toBe('prometheus');
    for (const event of SAMPLE_VALIDATIONS) bus.emit('validated', event);
    const outcome = await sink.publish(SAMPLE_STATUS, SAMPLE_REPORT, AbortSignal.timeout(5_000));
    expect(outcome).toEqual({ detail: `metrics written to ${file}` });
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# HELP certsmith_certificate_not_after_timestamp_seconds ');
    expect(text).toContain('# TYPE certsmith_certificate_not_after_timestamp_seconds gauge\n');
    const samples = samplesOf(text);
    const cpanel = { target: 'hostname', service: 'cpanel' };
    expect(valueOf(samples, 'certsmith_certificate_not_after_timestamp_seconds', { ...cpanel, issuer: "CN=R11, O=Let's Encrypt, C=US" })).toBe(
      Date.parse('2027-01-25T00:00:00Z') / 1000,
    );
    expect(valueOf(samples, 'certsmith_certificate_days_left', cpanel)).toBe(49);
    expect(valueOf(samples, 'certsmith_certificate_renewal_due', { ...cpanel, rule: 'lifetime' })).toBe(1);
    expect(valueOf(samples, 'certsmith_certificate_renewal_due_timestamp_seconds', cpanel)).toBe(Date.parse('2026-12-26T00:00:00Z') / 1000);
    expect(valueOf(samples, 'certsmith_certificate_self_signed', { service: 'dovecot' })).toBe(1);
    expect(valueOf(samples, 'certsmith_certificate_self_signed', cpanel)).toBe(0);
    expect(valueOf(samples, 'certsmith_certificate_missing_names', { service: 'dovecot' })).toBe(1);
    expect(valueOf(samples, 'certsmith_certificate_renewal_due', { service: 'exim', rule: 'missing' })).toBe(1);
    expect(valueOf(samples, 'certsmith_certificate_missing_names', { service: 'exim' })).toBe(2);
    // No certificate, no expiry: the series are absent rather than a made-up 0.
    expect(samples.filter((s) => s.labels.service === 'exim' && s.name.startsWith('certsmith_certificate_not_after'))).toEqual([]);
    expect(valueOf(samples, 'certsmith_certificate_renewal_due', { service: 'web', rule: 'lifetime' })).toBe(0);

    expect(valueOf(samples, 'certsmith_pending_orders', { target: 'hostname', issuer: 'letsencrypt' })).toBe(2);
    expect(valueOf(samples, 'certsmith_pending_order_longest_wait_seconds', { target: 'hostname', issuer: 'letsencrypt' })).toBe(7200);

    expect(valueOf(samples, 'certsmith_last_run_end_timestamp_seconds')).toBe(Date.parse('2026-12-06T11:59:52.500Z') / 1000);
    expect(valueOf(samples, 'certsmith_last_run_duration_seconds')).toBe(42.5);
    expect(valueOf(samples, 'certsmith_last_run_exit_code')).toBe(1);
    expect(valueOf(samples, 'certsmith_last_run_interrupted')).toBe(0);
    expect(valueOf(samples, 'certsmith_last_run_target_result', { target: 'hostname', result: 'failed' })).toBe(1);
    expect(valueOf(samples, 'certsmith_last_run_target_result', { target: 'hostname', result: 'healthy' })).toBe(0);
    expect(valueOf(samples, 'certsmith_last_run_target_result', { target: 'shop.example.test', result: 'healthy' })).toBe(1);
    expect(valueOf(samples, 'certsmith_last_run_failures', { target: 'hostname', stage: 'dcv', code: 'DCV_HTTP_NOT_FOUND' })).toBe(2);
    expect(valueOf(samples, 'certsmith_last_run_failures', { stage: 'install', code: 'INSTALL_FAILED', severity: 'error' })).toBe(1);

    // Only DCV verdicts count (the CAA refusal does not); one without a code is UNCLASSIFIED.
    const dcv = samples.filter((s) => s.name === 'certsmith_last_run_dcv_failures');
    expect(dcv.map((s) => ({ ...s.labels, value: s.value }))).toEqual([
      { target: 'hostname', method: 'http-file', over: 'http', code: 'DCV_HTTP_NOT_FOUND', value: 2 },
      { target: 'hostname', method: 'dns-txt', over: 'dns', code: 'UNCLASSIFIED', value: 1 },
    ]);
    // No timestamps (the textfile collector refuses them) and no process metrics of the plugin's own.
    expect(samples.every((s) => s.name.startsWith('certsmith_'))).toBe(true);
    expect(samples.length).toBe(text.split('\n').filter((l) => l && !l.startsWith('#')).length);
  });

  it('counts DCV failures per run: the next publish starts from zero; the prefix is the option', async () => {
    const file = join(dir, 'prefixed.prom');
    const { sink, bus } = await load({ file, prefix: 'tls_' });
    bus.emit('validated', SAMPLE_VALIDATIONS[0]!);
    await sink.publish(SAMPLE_STATUS, SAMPLE_REPORT, AbortSignal.timeout(5_000));
    expect(valueOf(samplesOf(await readFile(file, 'utf8')), 'tls_last_run_dcv_failures', { code: 'DCV_HTTP_NOT_FOUND' })).toBe(1);
    await sink.publish(SAMPLE_STATUS, SAMPLE_REPORT, AbortSignal.timeout(5_000));
    const again = samplesOf(await readFile(file, 'utf8'));
    expect(again.filter((s) => s.name === 'tls_last_run_dcv_failures')).toEqual([]);
    expect(again.some((s) => s.name.startsWith('certsmith_'))).toBe(false);
  });

  it('never throws: a missing directory, a file in its place, or a directory at the path is one warning naming the file', async () => {
    const missing = join(dir, 'no-such-dir', 'certsmith.prom');
    const { sink } = await load({ file: missing });
    const outcome = await sink.publish(SAMPLE_STATUS, SAMPLE_REPORT, AbortSignal.timeout(5_000));
    expect(outcome).toEqual({
      detail: 'metrics not written',
      warnings: [`${missing}: cannot be written (ENOENT); node_exporter keeps the previous one, if any`],
    });

    await writeFile(join(dir, 'plain-file'), '');
    const underFile = join(dir, 'plain-file', 'certsmith.prom');
    expect((await (await load({ file: underFile })).sink.publish(SAMPLE_STATUS, SAMPLE_REPORT, AbortSignal.timeout(5_000))).warnings).toEqual([
      expect.stringMatching(/plain-file\/certsmith\.prom: cannot be written \(ENOTDIR\)/),
    ]);

    const taken = join(dir, 'taken');
    await mkdir(join(taken, 'certsmith.prom'), { recursive: true });
    const { sink: blocked } = await load({ file: join(taken, 'certsmith.prom') });
    const refused = await blocked.publish(SAMPLE_STATUS, SAMPLE_REPORT, AbortSignal.timeout(5_000));
    expect(refused.warnings).toEqual([expect.stringMatching(/taken\/certsmith\.prom: cannot be written \(EISDIR\)/)]);
    // The temp file is gone: nothing half-written is left beside the file.
    expect(await readdir(taken)).toEqual(['certsmith.prom']);
  });
});
