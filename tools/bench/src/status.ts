// Benchmark: `certsmith status` over N site targets (default 10,000), aim under 2 s wall. The fixture is the healthy
// benchmark's (each target's certificate and key in the installer-files layout), then one `check` so that the state
// directory holds a real last-run record, then pending-order files for 1 % of the targets (as an order left at a slow
// CA leaves them). Status reads all of it and asks nothing over the network. Figures with the load average beside them.
//   npm run bench -- status [--n 10000] [--runs 3]
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_PATH, cliNodeFlags, labDir } from '@certsmith/testlab';
import { prepareHealthy } from './healthy.js';
import { timed } from './renewal.js';
import { formatKb, formatMs, writeResults } from './report.js';

export interface StatusResult {
  targets: number;
  pending: number;
  output: 'human' | 'json';
  exitCode: number;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  /** /proc/loadavg's 1-minute figure just before the run. */
  load: number;
}

/** Pending-order files for every hundredth target, shaped as the store writes them (the key is never read by status). */
async function writePendingOrders(stateDir: string, n: number, now: Date): Promise<number> {
  const dir = join(stateDir, 'pending');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let count = 0;
  for (let i = 0; i < n; i += 100) {
    const names = [`site${i}.healthy.test`, `www.site${i}.healthy.test`];
    const since = new Date(now.getTime() - (i % 72) * 3_600_000).toISOString();
    const order = {
      issuer: 'acme',
      target: `t${i}`,
      reference: `https://ca.test/order/${i}`,
      names,
      createdAt: since,
      orderStatus: 'pending',
      authorizations: names.map((name) => ({ name, status: 'pending', challenge: { type: 'http-01', status: 'processing' }, since })),
    };
    const file = { order, keyPem: '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n', csrPem: '', spec: { type: 'ecdsa-p256' } };
    await writeFile(join(dir, `t${i}.acme.json`), JSON.stringify(file), { mode: 0o600 });
    count++;
  }
  return count;
}

async function loadAverage(): Promise<number> {
  return Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
}

export async function main(args: string[]): Promise<StatusResult[]> {
  const { values } = parseArgs({ args, options: { n: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
  const n = Number(values.n);
  const dir = await labDir('bench-status');
  try {
    process.stderr.write(`status: writing ${n} targets' certificates, running check once for the state ...\n`);
    const config = await prepareHealthy(dir.path, n);
    const cli = [...cliNodeFlags(), CLI_PATH];
    const check = await timed(process.execPath, [...cli, 'check', '--no-retry', '--json', '--config', config], {
      cwd: dir.path,
      timeFile: join(dir.path, 'time.txt'),
    });
    if (check.code !== 0) throw new Error(`status: the preparing check exited ${check.code}: ${check.stderr.slice(0, 2000)}`);
    const pending = await writePendingOrders(join(dir.path, 'state'), n, new Date());
    const results: StatusResult[] = [];
    for (let r = 0; r < Number(values.runs); r++) {
      for (const output of ['json', 'human'] as const) {
        const load = await loadAverage();
        const m = await timed(process.execPath, [...cli, 'status', ...(output === 'json' ? ['--json'] : []), '--config', config], {
          cwd: dir.path,
          timeFile: join(dir.path, 'time.txt'),
        });
        if (m.code !== 0) process.stderr.write(`status: exit ${m.code}: ${m.stderr.slice(0, 2000)}\n`);
        else if (output === 'json' && (JSON.parse(m.stdout) as { targets: unknown[] }).targets.length !== n + 1)
          process.stderr.write('status: the JSON report does not list every target\n');
        results.push({ targets: n, pending, output, exitCode: m.code, wallMs: m.wallMs, cpuMs: m.cpuMs, maxRssKb: m.maxRssKb, load });
      }
    }
    process.stdout.write(
      `\n### certsmith status at scale (aim: ${n} targets under 2 s)\n\n| site targets | pending orders | output | exit | wall | CPU (user+sys) | peak RSS | load (1 min) |\n| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n`,
    );
    for (const r of results)
      process.stdout.write(
        `| ${r.targets} | ${r.pending} | ${r.output} | ${r.exitCode} | ${formatMs(r.wallMs)} | ${formatMs(r.cpuMs)} | ${formatKb(r.maxRssKb)} | ${r.load.toFixed(2)} |\n`,
      );
    await writeResults('status', results);
    return results;
  } finally {
    await dir.cleanup();
  }
}
