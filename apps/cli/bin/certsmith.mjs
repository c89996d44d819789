#!/usr/bin/env node
// The clone's `certsmith` and `checkallsslcerts` commands. npm links a workspace's bins at `npm ci`, before anything is
// built, and skips a bin whose file is missing: this launcher is committed, so the links always exist, and it runs the
// built CLI or says how to build it.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (existsSync(main)) await import(main.href);
else {
  process.stderr.write('certsmith: NOT_BUILT: apps/cli/dist/main.js: the CLI is not built yet (npm run build, or npm start)\n');
  process.exitCode = 2;
}
