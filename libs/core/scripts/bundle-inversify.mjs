#!/usr/bin/env node
// Build step (after tsc), run in libs/core: replaces dist/inversify.js, tsc's one-line re-export of 'inversify', with
// an esbuild bundle of src/inversify.ts, i.e. inversify 8 and its @inversifyjs/* packages inlined into one ESM file.
// Why: node loads the package as ~250 small ESM modules (@inversifyjs/core alone ~180), and resolving, reading and
// compiling them one by one costs every run ~0.1 s of CPU more than the same code as one file (docs/performance.md).
// Only the run-time JavaScript changes: dist/inversify.d.ts stays as tsc wrote it, so types still come from the
// 'inversify' package, the very version bundled here; sources and tests (the @certsmith/source condition) read it too.
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

// The exports map of 'inversify' has no ./package.json: find it from the entry point (lib/index.js).
const inversifyPackage = JSON.parse(readFileSync(join(dirname(createRequire(import.meta.url).resolve('inversify')), '..', 'package.json'), 'utf8'));

const result = await build({
  entryPoints: ['src/inversify.ts'],
  outfile: 'dist/inversify.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // No source map: the bundle is plain, unminified JavaScript that names each module it inlines (// node_modules/...),
  // and a map would chain to the packages' own maps, whose src/*.ts npm does not ship (vite warns of each).
  sourcemap: false,
  banner: {
    js: `// inversify ${inversifyPackage.version} (${inversifyPackage.license} license) with its dependencies, bundled by scripts/bundle-inversify.mjs: do not edit.`,
  },
  metafile: true,
  logLevel: 'warning',
});

// tsc's map described its one-line re-export, not this file.
rmSync('dist/inversify.js.map', { force: true });

// Everything inlined is the point: an import left in the bundle (a new dependency of inversify's, say) would load
// files from node_modules again, one by one.
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (output.imports.length > 0) {
    console.error(`bundle-inversify: ${file} still imports ${output.imports.map((i) => i.path).join(', ')}`);
    process.exit(1);
  }
}
