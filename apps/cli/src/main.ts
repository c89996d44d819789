#!/usr/bin/env node
// certsmith's command line. Kept small: `--version` and `--help` are answered before anything else loads, and each
// command imports what it needs only when it runs, so that they start as fast as node itself.
import { commandArgs, exitWith } from './entry.js';
import { USAGE, answeredAtOnce, version } from './usage.js';

async function main(argv: string[]): Promise<number> {
  const args = commandArgs(argv);
  if (answeredAtOnce(args)) return 0;
  const { start } = await import('./program.js');
  return start(args, { usage: USAGE, version });
}

exitWith(main(process.argv.slice(2)));
