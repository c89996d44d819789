// Benchmark: cold start. `certsmith --version` and `certsmith check --help` beside `node -e 0` (the floor),
// `certbot --version` and `lego --version`: hyperfine medians of repeated runs, and the ratio to node -e 0. One
// hyperfine per command, so that each row carries the 1-minute load average at its own start and end.
//   npm run bench -- coldstart [--runs 30] [--cli <path>] (another certsmith entry point, a bundled one say)
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_PATH, cliNodeFlags, labDir, mustRun } from '@certsmith/testlab';
import { formatLoad, LOAD_HEADER, withLoad, writeResults, type LoadSpan } from './report.js';

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

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function main(args: string[]): Promise<ColdStartResult[]> {
  const { values } = parseArgs({ args, options: { runs: { type: 'string', default: '30' }, cli: { type: 'string' } } });
  const node = shellQuote(process.execPath);
  const cliPath = values.cli ? resolve(values.cli) : CLI_PATH;
  // As the installed command starts: node with the launcher line's flags.
  const cli = [...cliNodeFlags(cliPath), cliPath].map(shellQuote).join(' ');
  const commands: [string, string][] = [
    ['node -e 0', `${node} -e 0`],
    ['certsmith --version', `${node} ${cli} --version`],
    ['certsmith check --help', `${node} ${cli} check --help`],
    ['certbot --version', 'certbot --version'],
    ['lego --version', 'lego --version'],
  ];
  const dir = await labDir('bench-coldstart');
  try {
    const measured: Omit<ColdStartResult, 'ratio'>[] = [];
    for (const [name, cmd] of commands) {
      const out = join(dir.path, 'hyperfine.json');
      const { load } = await withLoad(() =>
        mustRun('hyperfine', ['--style', 'none', '--warmup', '3', '--runs', String(values.runs), '-N', '--export-json', out, '-n', name, cmd], {
          timeoutMs: 600_000,
        }),
      );
      const [r] = (JSON.parse(await readFile(out, 'utf8')) as { results: { median: number; mean: number; stddev: number; times: number[] }[] }).results;
      measured.push({ command: name, medianMs: r!.median * 1000, meanMs: r!.mean * 1000, stddevMs: (r!.stddev ?? 0) * 1000, runs: r!.times.length, load });
    }
    const floor = measured.find((r) => r.command === 'node -e 0')!.medianMs;
    const results: ColdStartResult[] = measured.map((r) => ({ ...r, ratio: r.medianMs / floor }));
    const entry = values.cli ? `; certsmith entry point: ${cliPath}` : '';
    const tables = [
      `### Cold start (hyperfine, ${values.runs} runs after 3 warm-ups; aim: certsmith <= 1.1x node -e 0${entry})`,
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
  } finally {
    await dir.cleanup();
  }
}
