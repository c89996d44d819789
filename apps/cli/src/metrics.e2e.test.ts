// @certsmith/metrics-prometheus in a real run: the built CLI checks a sandbox whose config names the plugin, twice,
// and Debian's node_exporter serves what the second run wrote.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDir, runCli, samplesOf, startNodeExporter, valueOf, type NodeExporter } from '@certsmith/testlab';

const SANDBOX = new URL('../../../config/sandbox.json', import.meta.url);
const SERVICES = ['cpanel', 'dovecot', 'exim', 'ftp'];

describe('certsmith check with @certsmith/metrics-prometheus', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let config: string;
  let metrics: string;
  let exporter: NodeExporter;
  beforeAll(async () => {
    dir = await labDir('metrics-e2e');
    metrics = join(dir.path, 'textfile', 'certsmith.prom');
    const sandbox = JSON.parse(await readFile(SANDBOX, 'utf8')) as Record<string, unknown>;
    delete sandbox.$schema;
    config = join(dir.path, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        ...sandbox,
        names: ['mail.sandbox.test'],
        paths: { stateDir: './state', sslDir: './ssl', logDir: './logs' },
        plugins: [{ module: '@certsmith/metrics-prometheus', options: { file: metrics } }],
      }),
    );
  });
  afterAll(async () => {
    await exporter?.stop();
    await dir?.cleanup();
  });

  it('a missing directory is one warning naming the file; the run still succeeds', async () => {
    const check = await runCli(['check', '--config', config]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`Warning (prometheus): ${metrics}: cannot be written (ENOENT)`);
    expect(check.stdout).toContain('Status (prometheus): metrics not written\n');
  });

  it('writes the file after each run; the second run replaces the first, as node_exporter serves it', async () => {
    await mkdir(join(dir.path, 'textfile'));
    const first = await runCli(['check', '--config', config]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Status (prometheus): metrics written to ${metrics}\n`);
    const before = samplesOf(await readFile(metrics, 'utf8'));
    // The run before installed the sandbox's certificates (only its metrics were lost): this one finds them healthy.
    const notAfter = valueOf(before, 'certsmith_certificate_not_after_timestamp_seconds', { service: 'cpanel' });

    // The second run, 30 days on (the test clock stands still there): the same certificates, healthy.
    const later = new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * 86_400_000);
    const second = await runCli(['check', '--config', config], { env: { CERTSMITH_FAKE_NOW: later.toISOString() } });
    expect(second.code, second.stderr).toBe(0);

    exporter = await startNodeExporter({ textfileDir: join(dir.path, 'textfile') });
    const samples = samplesOf(await exporter.scrape());
    expect(valueOf(samples, 'node_textfile_scrape_error'), exporter.log()).toBe(0);
    expect(valueOf(before, 'certsmith_last_run_end_timestamp_seconds')).toBeLessThan(later.getTime() / 1000);
    expect(valueOf(samples, 'certsmith_last_run_end_timestamp_seconds')).toBe(later.getTime() / 1000);
    expect(valueOf(samples, 'certsmith_last_run_duration_seconds')).toBe(0);
    expect(valueOf(samples, 'certsmith_last_run_exit_code')).toBe(0);
    expect(valueOf(samples, 'certsmith_last_run_target_result', { target: 'hostname', result: 'healthy' })).toBe(1);
    expect(valueOf(samples, 'certsmith_last_run_target_result', { target: 'hostname', result: 'replaced' })).toBe(0);
    for (const service of SERVICES) {
      expect(valueOf(samples, 'certsmith_certificate_not_after_timestamp_seconds', { target: 'hostname', service })).toBe(notAfter);
      expect(valueOf(samples, 'certsmith_certificate_days_left', { service })).toBe(Math.floor((notAfter * 1000 - later.getTime()) / 86_400_000));
      expect(valueOf(samples, 'certsmith_certificate_self_signed', { service })).toBe(1);
      expect(valueOf(samples, 'certsmith_certificate_renewal_due', { service, rule: 'threshold' })).toBe(0);
      expect(valueOf(samples, 'certsmith_certificate_missing_names', { service })).toBe(0);
    }
  });
});
