// Shared output of the benchmarks: figures as people read them, the load average beside each (this VM's 2 cores are
// shared, and a figure taken under load is not the idle one), and what was measured kept in tools/bench/results
// (gitignored): the JSON and the printed tables as markdown, for docs/performance.md to quote.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

export function formatKb(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MB`;
}

/** The 1-minute load average at the start and at the end of one measurement. */
export interface LoadSpan {
  start: number;
  end: number;
}

/** The 1-minute load average (/proc/loadavg's first field); NaN where there is none. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ', 1)[0]);
  } catch {
    return Number.NaN;
  }
}

/** Runs one measurement and notes the load average at its start and end. */
export async function withLoad<T>(measure: () => Promise<T>): Promise<{ value: T; load: LoadSpan }> {
  const start = loadAverage();
  const value = await measure();
  return { value, load: { start, end: loadAverage() } };
}

/** The column header that goes beside every figure. */
export const LOAD_HEADER = 'load 1-min (start→end)';

/** One measurement's load ("0.41→0.87"), or the range over several ("0.41–1.20 over 3 runs"). */
export function formatLoad(loads: LoadSpan | LoadSpan[]): string {
  if (!Array.isArray(loads)) return `${loads.start.toFixed(2)}→${loads.end.toFixed(2)}`;
  if (loads.length === 1) return formatLoad(loads[0]!);
  const all = loads.flatMap((l) => [l.start, l.end]);
  return `${Math.min(...all).toFixed(2)}–${Math.max(...all).toFixed(2)} over ${loads.length} runs`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The commit the benchmark's tree is at, and whether it had uncommitted changes; '' outside a git tree. */
function commitOfTree(): string {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: fileURLToPath(new URL('.', import.meta.url)), encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return '';
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' (with uncommitted changes)' : ''}`;
}

/**
 * Writes results/<name>-<timestamp>.json (the figures, the machine, the commit, the command line) and, given the
 * printed tables, results/<name>-<timestamp>.md with the same header; returns the JSON's path.
 */
export async function writeResults(name: string, results: unknown, tables?: string): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const at = new Date().toISOString();
  const base = `${RESULTS_DIR}${name}-${at.replace(/[:.]/g, '-')}`;
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version };
  const commit = commitOfTree();
  const command = process.argv.slice(2).join(' ');
  await writeFile(`${base}.json`, `${JSON.stringify({ benchmark: name, at, commit, command, machine, loadAtEnd: loadAverage(), results }, null, 2)}\n`);
  if (tables !== undefined) {
    const header = `<!-- ${name}, finished ${at}; commit ${commit || 'unknown'}; bench arguments: ${command || '(none)'}; ${machine.cpus} × ${machine.cpuModel}, node ${machine.node} -->`;
    await writeFile(`${base}.md`, `${header}\n${tables.trim()}\n`);
  }
  process.stderr.write(`wrote ${base}.json${tables !== undefined ? ` and ${base}.md` : ''}\n`);
  return `${base}.json`;
}
