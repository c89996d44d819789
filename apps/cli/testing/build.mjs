// Bundles the test entry (certsmith-under-test.ts) into testing/dist: its own code only. The program it runs stays the
// built one in apps/cli/dist (its ../src/*.js imports point there) and the workspace's packages stay imports, so that a
// test runs the same modules as the shipped CLI, from the same directories.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

const builtProgram = {
  name: 'built-program',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/src\// }, (args) => ({ path: args.path.replace(/^\.\.\/src\//, '../../dist/'), external: true }));
  },
};

await build({
  entryPoints: [join(here, 'certsmith-under-test.ts')],
  outdir: join(here, 'dist'),
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [builtProgram],
  logLevel: 'warning',
});
