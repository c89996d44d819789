import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './process.js';

/** The built CLI, as a user runs it (`npm run build` first; the test target depends on it). */
export const CLI_PATH = fileURLToPath(new URL('../../../apps/cli/dist/main.js', import.meta.url));

/**
 * The same program with the test composition's bindings (apps/cli/testing): a clock pinned by CERTSMITH_FAKE_NOW,
 * a kill at CERTSMITH_FAULT_KILL_AT=<service>:<step>, DNS to loopback only. What runCli runs unless told otherwise.
 */
export const CLI_UNDER_TEST_PATH = fileURLToPath(new URL('../../../apps/cli/testing/dist/certsmith-under-test.js', import.meta.url));

/**
 * The node flags of the CLI's launcher line (`#!/usr/bin/env -S node <flags>`), so that a test or a benchmark that
 * starts the CLI with `node` (to profile it, say) runs it as the installed `certsmith` command does. `cliPath`: another
 * entry point of the same kind (a bundled one, say).
 */
export function cliNodeFlags(cliPath: string = CLI_PATH): string[] {
  const first = readFileSync(cliPath, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\S*env\s+-S\s+node\s+(.*)$/.exec(first);
  return match ? match[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

/** Runs the CLI under test (`cli`: another entry point, e.g. CLI_PATH for the shipped one) and collects its output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; cli?: string } = {}): Promise<RunResult> {
  const cli = options.cli ?? CLI_UNDER_TEST_PATH;
  return run(process.execPath, [...cliNodeFlags(cli), cli, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}
