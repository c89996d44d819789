// Shared output of the benchmarks: figures as people read them, and the JSON kept in tools/bench/results (gitignored).
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

/** Writes results/<name>-<timestamp>.json with the machine it ran on; returns the path. */
export async function writeResults(name: string, results: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version };
  await writeFile(file, `${JSON.stringify({ benchmark: name, at: new Date().toISOString(), machine, results }, null, 2)}\n`);
  process.stderr.write(`wrote ${file}\n`);
  return file;
}
