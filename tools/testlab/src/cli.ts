import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './process.js';

/** The built CLI, as a user runs it (`npm run build` first; the test target depends on it). */
export const CLI_PATH = fileURLToPath(new URL('../../../apps/cli/dist/main.js', import.meta.url));

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, timeoutMs: options.timeoutMs ?? 120_000 });
}
