#!/usr/bin/env -S node --max-semi-space-size=1 --single-threaded --liftoff-only --heap-growing-percent=25 --interrupt-budget=270336
// The clone's `certsmith` and `checkallsslcerts` commands. npm links a workspace's bins at `npm ci`, before anything is
// built, and skips a bin whose file is missing: this launcher is committed, so the links always exist, and it runs the
// built CLI (same node flags as dist/main.js's launcher line) or says how to build it.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (existsSync(main)) await import(main.href);
else {
  process.stderr.write('certsmith: NOT_BUILT: apps/cli/dist/main.js: the CLI is not built yet (npm run build, or npm start)\n');
  process.exitCode = 2;
}
