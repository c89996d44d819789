// Benchmark: cold start. `certsmith --version` and `certsmith check --help` beside `node -e 0` (the floor),
// `certbot --version` and `lego --version`: the median wall time of repeated runs (after 3 warm-ups each), and the
// ratio to node -e 0. The commands take turns run by run, so that a slow spell of the machine falls on all of them
// alike; each row carries the 1-minute load average at the start and the end of the whole measurement.
//   npm run bench -- coldstart [--runs 30] [--cli <path>] (another certsmith entry point, a bundled one say)
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CLI_PATH, cliNodeFlags } from '@certsmith/testlab';
import { formatLoad, LOAD_HEADER, median, withLoad, writeResults, type LoadSpan } from './report.js';

export interface ColdStartResult {
  command: string;
  medianMs: number;
  meanMs: number;
  stddevMs: number;
  runs: number;
  /** median / median of node -e 0 */
  ratio: number;
  load: LoadSpan;
}

/** One run of a command to its end, its output discarded; its wall time in ms. */
function once(argv: string[]): number {
  const start = performance.now();
  const result = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const ms = performance.now() - start;
  if (result.error || result.status !== 0) throw new Error(`${argv.join(' ')} failed: ${result.error?.message ?? `exit ${result.status}`}`);
  return ms;
}

export async function main(args: string[]): Promise<ColdStartResult[]> {
  const { values } = parseArgs({ args, options: { runs: { type: 'string', default: '30' }, cli: { type: 'string' } } });
  const runs = Math.max(1, Number(values.runs) || 30);
  const cliPath = values.cli ? resolve(values.cli) : CLI_PATH;
  // As the installed command starts: node with the launcher line's flags.
  const cli = [process.execPath, ...cliNodeFlags(cliPath), cliPath];
  const commands: [string, string[]][] = [
    ['node -e 0', [process.execPath, '-e', '0']],
    ['certsmith --version', [...cli, '--version']],
    ['certsmith check --help', [...cli, 'check', '--help']],
    ['certbot --version', ['certbot', '--version']],
    ['lego --version', ['lego', '--version']],
  ];
  const { value: times, load } = await withLoad(async () => {
    const times = commands.map(() => [] as number[]);
    for (const [, argv] of commands) for (let i = 0; i < 3; i++) once(argv);
    for (let i = 0; i < runs; i++) commands.forEach(([, argv], c) => times[c]!.push(once(argv)));
    return times;
  });
  const floor = median(times[0]!);
  const results: ColdStartResult[] = commands.map(([command], c) => {
    const ms = times[c]!;
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    const stddev = Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ms.length - 1));
    return { command, medianMs: median(ms), meanMs: mean, stddevMs: stddev, runs: ms.length, ratio: median(ms) / floor, load };
  });
  const entry = values.cli ? `; certsmith entry point: ${cliPath}` : '';
  const tables = [
    `### Cold start (${runs} runs each, taking turns, after 3 warm-ups; aim: certsmith <= 1.1x node -e 0${entry})`,
    '',
    `| command | median | mean ± σ | × node -e 0 | ${LOAD_HEADER} |`,
    '| --- | ---: | ---: | ---: | --- |',
    ...results.map(
      (r) =>
        `| ${r.command} | ${r.medianMs.toFixed(1)} ms | ${r.meanMs.toFixed(1)} ± ${r.stddevMs.toFixed(1)} ms | ${r.ratio.toFixed(2)} | ${formatLoad(r.load)} |`,
    ),
  ].join('\n');
  process.stdout.write(`\n${tables}\n`);
  await writeResults('coldstart', results, tables);
  return results;
}
