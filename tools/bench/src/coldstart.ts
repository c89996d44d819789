// Benchmark: cold start. `certsmith --version` and `certsmith check --help` beside `node -e 0` (the floor),
// `certbot --version` and `lego --version`: hyperfine medians of repeated runs, and the ratio to node -e 0.
//   npm run bench -- coldstart [--runs 30]
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_PATH, cliNodeFlags, labDir, mustRun } from '@certsmith/testlab';
import { writeResults } from './report.js';

export interface ColdStartResult {
  command: string;
  medianMs: number;
  meanMs: number;
  stddevMs: number;
  runs: number;
  /** median / median of node -e 0 */
  ratio: number;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export async function main(args: string[]): Promise<ColdStartResult[]> {
  const { values } = parseArgs({ args, options: { runs: { type: 'string', default: '30' } } });
  const node = shellQuote(process.execPath);
  // As the installed command starts: node with the launcher line's flags.
  const cli = [...cliNodeFlags(), CLI_PATH].map(shellQuote).join(' ');
  const commands: [string, string][] = [
    ['node -e 0', `${node} -e 0`],
    ['certsmith --version', `${node} ${cli} --version`],
    ['certsmith check --help', `${node} ${cli} check --help`],
    ['certbot --version', 'certbot --version'],
    ['lego --version', 'lego --version'],
  ];
  const dir = await labDir('bench-coldstart');
  try {
    const out = join(dir.path, 'hyperfine.json');
    await mustRun(
      'hyperfine',
      ['--style', 'none', '--warmup', '3', '--runs', String(values.runs), '-N', '--export-json', out, ...commands.flatMap(([name, cmd]) => ['-n', name, cmd])],
      { timeoutMs: 600_000 },
    );
    const json = JSON.parse(await readFile(out, 'utf8')) as { results: { command: string; median: number; mean: number; stddev: number; times: number[] }[] };
    const floor = json.results.find((r) => r.command === 'node -e 0')!.median;
    const results: ColdStartResult[] = json.results.map((r) => ({
      command: r.command,
      medianMs: r.median * 1000,
      meanMs: r.mean * 1000,
      stddevMs: (r.stddev ?? 0) * 1000,
      runs: r.times.length,
      ratio: r.median / floor,
    }));
    process.stdout.write(`\n### Cold start (hyperfine, ${values.runs} runs after 3 warm-ups; aim: certsmith <= 1.25x node -e 0)\n\n`);
    process.stdout.write('| command | median | mean ± σ | × node -e 0 |\n| --- | ---: | ---: | ---: |\n');
    for (const r of results)
      process.stdout.write(`| ${r.command} | ${r.medianMs.toFixed(1)} ms | ${r.meanMs.toFixed(1)} ± ${r.stddevMs.toFixed(1)} ms | ${r.ratio.toFixed(2)} |\n`);
    await writeResults('coldstart', results);
    return results;
  } finally {
    await dir.cleanup();
  }
}
