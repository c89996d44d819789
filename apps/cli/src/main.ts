#!/usr/bin/env node
// certsmith's command line. Kept small: `--version` and `--help` are answered before anything else loads, and each
// command imports what it needs only when it runs, so that they start as fast as node itself.
import { USAGE, answeredAtOnce, version } from './usage.js';

async function main(argv: string[]): Promise<number> {
  const invokedAs = (process.argv[1] ?? '').split('/').pop() ?? '';
  const args = invokedAs.startsWith('checkallsslcerts') ? ['check', ...argv] : argv;
  if (answeredAtOnce(args)) return 0;
  const { start } = await import('./program.js');
  return start(args, { usage: USAGE, version });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`certsmith: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
