// The healthy benchmark's own check (no timed assertion): both kinds of prepared set are what the table says they
// are: every target healthy through the CLI, the chain set's leaves issued by the bench intermediate and trusted only
// through the root the benchmark hands the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, cliNodeFlags, labDir, randomLoopback, startDnsLab, startNginx } from '@certsmith/testlab';
import { benchRootFile, healthyTable, prepareHealthy, prepareWebHost, type HealthyResult } from './healthy.js';
import { timed } from './renewal.js';
import { join } from 'node:path';

interface Report {
  exitCode: number;
  targets: {
    target: string;
    result: string;
    services: { service: string; inspect: { chain: { subject: string }[]; defects: { code: string }[]; live: { endpoint: string; ok: boolean }[] } }[];
  }[];
}

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await labDir('bench-healthy-test');
});
afterAll(async () => {
  await dir?.cleanup();
});

async function check(config: string, env: NodeJS.ProcessEnv = {}): Promise<Report> {
  const run = await timed(process.execPath, [...cliNodeFlags(), CLI_PATH, 'check', '--no-retry', '--json', '--config', config], {
    cwd: join(config, '..'),
    env,
    timeFile: join(config, '..', 'time.txt'),
  });
  expect(run.stdout, run.stderr).toMatch(/^\{/);
  return JSON.parse(run.stdout) as Report;
}

describe('healthy benchmark sets', () => {
  it('self-signed: every site target is healthy', async () => {
    const config = await prepareHealthy(join(dir.path, 'self'), 3);
    const report = await check(config);
    expect(report.targets.filter((t) => t.target !== 'hostname').map((t) => t.result)).toEqual(['healthy', 'healthy', 'healthy']);
  }, 60_000);

  it('chain: leaf + intermediate, healthy when the run trusts the bench root, not otherwise', async () => {
    const base = join(dir.path, 'chain');
    const config = await prepareHealthy(base, 3, 'chain');
    const trusted = await check(config, { SSL_CERT_FILE: benchRootFile(base) });
    const sites = trusted.targets.filter((t) => t.target !== 'hostname');
    expect(sites.map((t) => t.result)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(sites[0]!.services[0]!.inspect.chain.map((c) => c.subject)).toEqual(['CN=certsmith bench intermediate']);
    // The same files against the system store: the chain ends in an unknown root, which the inspection reports.
    const untrusted = await check(config, { SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' });
    const codes = untrusted.targets.find((t) => t.target === 't0')!.services[0]!.inspect.defects.map((d) => d.code);
    expect(codes.some((c) => c.startsWith('OPENSSL_VERIFY:1:'))).toBe(true);
  }, 60_000);

  it('web host: every target is healthy after a live handshake with nginx and its name resolved (BIND); not once nginx is gone', async () => {
    const base = join(dir.path, 'web');
    const address = randomLoopback();
    const zone = `$TTL 300\n@ IN SOA ns1.example.test. hostmaster.healthy.test. 1 300 60 86400 60\n@ IN NS ns1.example.test.\n* IN A ${address}\n`;
    const dns = await startDnsLab({ extraZones: { 'healthy.test': zone } });
    try {
      const set = await prepareWebHost(base, 3, { hostname: 'web.healthy.test', address, port: 443, rootHints: dns.rootHintsFile });
      const nginx = await startNginx({
        address,
        sites: [{ serverNames: set.names, docroot: join(base, 'docroot'), tls: { certFile: set.certFile, keyFile: set.keyFile } }],
      });
      let report: Report;
      try {
        report = await check(set.config, { SSL_CERT_FILE: set.rootFile });
      } finally {
        await nginx.stop();
      }
      expect(report.targets.map((t) => [t.target, t.result])).toEqual(set.targetIds.map((id) => [id, 'healthy']));
      for (const target of report.targets) {
        const [web] = target.services;
        expect(web!.service).toBe('web');
        expect(web!.inspect.live).toEqual([expect.objectContaining({ endpoint: `${address}:443`, ok: true })]);
        expect(web!.inspect.defects).toEqual([]);
      }
      // Nothing listens any more: the inspection really asks the server, and says so for every target.
      const gone = await check(set.config, { SSL_CERT_FILE: set.rootFile });
      for (const target of gone.targets) expect(target.services[0]!.inspect.live.map((o) => o.ok)).toEqual([false]);
    } finally {
      await dns.stop();
    }
  }, 120_000);
});

describe('healthy table', () => {
  const run = (wallMs: number, load: HealthyResult['load']): HealthyResult => ({
    targets: 10_000,
    kind: 'self-signed',
    exitCode: 0,
    healthy: 10_000,
    wallMs,
    cpuMs: wallMs - 100,
    maxRssKb: 160 * 1024,
    load,
  });

  it('prints the load average beside every run and the median row', () => {
    const table = healthyTable([run(5_000, { start: 0.5, end: 1 }), run(7_000, { start: 1, end: 1.5 }), run(6_000, { start: 0.25, end: 0.5 })]);
    expect(table).toContain('| 1 | 10000 | self-signed | 10000 | 0 | 5.00 s | 4.90 s | 160 MB | 0.50→1.00 |');
    expect(table).toContain('| **median of 3** | 10000 | self-signed | 10000 | 0 | 6.00 s | 5.90 s | 160 MB | 0.25–1.50 over 3 runs |');
  });
});
