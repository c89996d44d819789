#!/usr/bin/env node
// Builds the installable package: the CLI and every first-party plugin as one program (esbuild), from the workspace's
// compiled dist/ files (so libs/core's pre-generated validators and bundled inversify are what ships).
// Layout (mirrors the repository's, so that paths a module computes from import.meta.url still hold):
//   dist/main.js           the launcher: apps/cli's main.js with its #! line; reads ../package.json for --version
//   dist/lib/*.js          everything else, split at each import() so a run loads only the commands and plugins it uses
//                          (a module there finds "../x" in dist/, as apps/cli/dist/x.js finds apps/cli/x)
//   dist/lib/config-validator.cjs, dist/lib/plugins/<name>/options-validator.cjs
//                          the validators core and plugins generate at build time, with the ajv runtime inlined
//   dist/named.root        the root hints @certsmith/dns reads (../named.root from its module)
//   dist/share/            apps/cli/share (systemd units, cron line ...)
//   dist/config.schema.json  the configuration's JSON Schema, for editors ("$schema")
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs it when it is imported, here to read its exports
import { build } from 'esbuild';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(here, '../..');
const dist = join(here, 'dist');
// A workspace package's directory (npm links each one into the root node_modules).
const packageDir = (name) => realpathSync(join(repo, 'node_modules', name));
const fail = (message) => {
  console.error(`build: ${message}`);
  process.exit(1);
};

rmSync(dist, { recursive: true, force: true });

// The core (ajv) and @certsmith/x509 (tldts) load a dependency on first use through createRequire(import.meta.url),
// which a bundler cannot follow; the fleet plugin imports the NATS clients with import() on its first connection.
// Each such package is bundled on its own into dist/lib/vendor/<group>.cjs, and in first-party files only, the
// require() or import() loads that file through dist/lib/code-cache.cjs: still on first use only, not parsed by every
// run as part of a chunk (ajv, tldts and the NATS clients are ~0.9 MB of source), and with a V8 code cache
// (src/code-cache.ts), so a run that uses one does not compile it again. One group shares one copy (ajv's codegen
// classes are checked with instanceof across ajv and ajv-formats). createRequire(<a path>) of a third party's file is
// untouched.
const LAZY_GROUPS = { ajv: 'ajv', 'ajv-formats': 'ajv', 'ajv/dist/standalone': 'ajv', tldts: 'tldts' };
const IMPORTED_GROUPS = { '@nats-io/transport-node': 'nats', '@nats-io/jetstream': 'nats', '@nats-io/kv': 'nats' };
const vendorCall = (group, spec) => `require("./code-cache.cjs").requireVendor(${JSON.stringify(group)})[${JSON.stringify(spec)}]`;
const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    b.onResolve({ filter: /^\.\/(vendor\/|code-cache\.cjs$)/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (args.path.includes(`${'/'}node_modules${'/'}`) || !args.path.startsWith(repo)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      const requires = text.includes('createRequire(import.meta.url)');
      const imports = /\bimport\(['"]@nats-io\//.test(text);
      if (!requires && !imports) return undefined;
      const where = relative(repo, args.path);
      const contents = text
        .replace(/^const require = createRequire\(import\.meta\.url\);$/m, '')
        .replace(/createRequire\(import\.meta\.url\)\(/g, 'require(')
        .replace(/\brequire\('([^']+)'\)/g, (_, spec) => {
          if (!Object.hasOwn(LAZY_GROUPS, spec)) fail(`${where}: require('${spec}') is not in the build's LAZY_GROUPS`);
          return vendorCall(LAZY_GROUPS[spec], spec);
        })
        .replace(/\bimport\((['"])(@nats-io\/[^'"]+)\1\)/g, (_, _quote, spec) => {
          if (!Object.hasOwn(IMPORTED_GROUPS, spec)) fail(`${where}: import('${spec}') is not in the build's IMPORTED_GROUPS`);
          return `Promise.resolve().then(() => ${vendorCall(IMPORTED_GROUPS[spec], spec)})`;
        });
      if (contents.includes('createRequire(import.meta.url)')) fail(`${where}: a createRequire(import.meta.url) the build does not know`);
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

// esbuild gives a CommonJS package reached by import() (undici, @peculiar/x509) in a chunk of its own whose only export
// is `default`, where node gives the named exports too. Such an import() gets an ES module in front of the package that
// re-exports the names node itself finds in it (its import() namespace, read here at build time). The names are taken
// from the namespace, not from `default`: for a package compiled from ES modules (`__esModule`, the NATS clients)
// esbuild's default is the package's own `default` export, which it may not have.
const cjsDynamicImports = {
  name: 'cjs-dynamic-imports',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== 'dynamic-import' || args.namespace !== 'file') return undefined;
      const target = await b.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir });
      if (target.errors.length > 0 || !isCommonJs(target.path)) return undefined;
      return { path: target.path, namespace: 'cjs-face', pluginData: { specifier: args.path } };
    });
    b.onLoad({ filter: /.*/, namespace: 'cjs-face' }, async (args) => {
      const names = Object.keys(await import(pathToFileURL(args.path).href)).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      const file = JSON.stringify(args.path);
      return {
        contents: `import * as face from ${file};\nexport default face.default ?? face;\nexport const { ${names.join(', ')} } = face;\n`,
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

/** Is this file CommonJS, as node would load it? (.cjs, or .js under a package.json without "type": "module") */
function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type !== 'module';
  }
  return true;
}

const result = await build({
  entryPoints: { main: join(repo, 'apps/cli/dist/main.js') },
  outdir: dist,
  chunkNames: 'lib/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Readable output: a stack trace from a user's server names real functions.
  minify: false,
  sourcemap: false,
  legalComments: 'eof',
  // Some bundled CommonJS packages (nodemailer, tldts ...) call require() for node's built-in modules.
  banner: { js: "import { createRequire as __certsmithRequire } from 'node:module'; const require = __certsmithRequire(import.meta.url);" },
  plugins: [lazyRequires, cjsDynamicImports],
  metafile: true,
  absWorkingDir: repo,
  logLevel: 'warning',
});

// main.js must hold apps/cli's main.js, its usage.js (which reads ../package.json from there) and entry.js (the exit
// code) only: every other path a module computes from import.meta.url assumes dist/lib/.
const mainInputs = Object.keys(result.metafile.outputs[relative(repo, join(dist, 'main.js'))]?.inputs ?? {}).sort();
if (mainInputs.join(' ') !== 'apps/cli/dist/entry.js apps/cli/dist/main.js apps/cli/dist/usage.js') fail(`dist/main.js holds ${mainInputs.join(', ')}`);
// One reflect-metadata, and no inversify but the core's bundled copy.
const inputs = Object.keys(result.metafile.inputs);
if (inputs.filter((i) => /reflect-metadata\/Reflect\.js$/.test(i)).length !== 1) fail('reflect-metadata is not included exactly once');
const strayInversify = inputs.filter((i) => /node_modules\/(inversify|@inversifyjs)\//.test(i));
if (strayInversify.length > 0) fail(`inversify bundled again from ${strayInversify[0]}`);
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  const external = output.imports.filter(
    (i) => i.external && !i.path.startsWith('node:') && !isBuiltin(i.path) && !i.path.startsWith('./vendor/') && i.path !== './code-cache.cjs',
  );
  if (external.length > 0) fail(`${file} imports ${external.map((i) => i.path).join(', ')} at run time`);
}

// A chunk whose whole export is a CommonJS module's `default` is one the cjs-dynamic-imports plugin missed.
for (const file of Object.keys(result.metafile.outputs)) {
  if (/^export default require_\w+\(\);$/m.test(readFileSync(join(repo, file), 'utf8'))) fail(`${file} exports only "default" of a CommonJS package`);
}

// The lazily required packages, one CommonJS file per group: an object of specifier -> module.
const VENDOR_GROUPS = { ...LAZY_GROUPS, ...IMPORTED_GROUPS };
for (const group of new Set(Object.values(VENDOR_GROUPS))) {
  const specs = Object.keys(VENDOR_GROUPS).filter((spec) => VENDOR_GROUPS[spec] === group);
  await build({
    stdin: {
      contents: `module.exports = { ${specs.map((s) => `${JSON.stringify(s)}: require(${JSON.stringify(s)})`).join(', ')} };`,
      resolveDir: repo,
      loader: 'js',
    },
    outfile: join(dist, 'lib/vendor', `${group}.cjs`),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
}

// The loader runs a vendored group as a classic script, which has no import(): a group must not use it. And no chunk
// may reach a vendored package but through the loader (a second copy of it, compiled by every run).
for (const group of new Set(Object.values(VENDOR_GROUPS))) {
  if (/\bimport\(/.test(readFileSync(join(dist, 'lib/vendor', `${group}.cjs`), 'utf8'))) fail(`dist/lib/vendor/${group}.cjs uses import()`);
}
for (const file of Object.keys(result.metafile.outputs)) {
  const reached = Object.keys(VENDOR_GROUPS).find((spec) =>
    new RegExp(`\\b(import|require)\\(["']${spec}["']\\)`).test(readFileSync(join(repo, file), 'utf8')),
  );
  if (reached) fail(`${file} reaches ${reached} without dist/lib/code-cache.cjs`);
}

// The vendored groups' loader, with its code cache (src/code-cache.ts).
await build({
  entryPoints: [join(here, 'src/code-cache.ts')],
  outfile: join(dist, 'lib/code-cache.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});

// The generated validators, each one self-contained CommonJS file (ajv's runtime helpers inlined).
async function bundleValidator(from, to) {
  await build({ entryPoints: [from], outfile: to, bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' });
}
const coreDist = join(packageDir('@certsmith/core'), 'dist');
if (!existsSync(join(coreDist, 'config/config-validator.cjs'))) fail('libs/core has no dist/config/config-validator.cjs: build @certsmith/core first');
await bundleValidator(join(coreDist, 'config/config-validator.cjs'), join(dist, 'lib/config-validator.cjs'));
const builtins = [...readFileSync(join(repo, 'apps/cli/src/builtin-plugins.ts'), 'utf8').matchAll(/'(@certsmith\/[a-z0-9-]+)': \(\) => import\('\1'\)/g)].map(
  (m) => m[1],
);
if (builtins.length === 0) fail('found no built-in plugin in apps/cli/src/builtin-plugins.ts');
for (const name of builtins) {
  const generated = join(packageDir(name), 'dist/options-validator.cjs');
  if (existsSync(generated)) await bundleValidator(generated, join(dist, 'lib/plugins', name, 'options-validator.cjs'));
}

cpSync(join(packageDir('@certsmith/dns'), 'named.root'), join(dist, 'named.root'));
cpSync(join(repo, 'libs/core/src/config/config.schema.json'), join(dist, 'config.schema.json'));
mkdirSync(join(dist, 'share'), { recursive: true });
cpSync(join(repo, 'apps/cli/share'), join(dist, 'share'), { recursive: true });
// The launcher requires nothing: without the banner, `--version` does not load node:module. Nor does it use the
// shared chunk esbuild imports first for its runtime helpers (a bare import, nothing named): the command's own chunk
// imports it when a command runs, so `--version` and `--help` load one module, not two.
const banner = /^import \{ createRequire as __certsmithRequire \} .*\n/m;
const bareChunkImports = /^import "\.\/lib\/chunk-[A-Z0-9]+\.js";\n/gm;
const launcher = readFileSync(join(dist, 'main.js'), 'utf8').replace(banner, '').replace(bareChunkImports, '');
if (/\brequire\b/.test(launcher)) fail('dist/main.js uses require(): keep the banner there');
writeFileSync(join(dist, 'main.js'), launcher);
chmodSync(join(dist, 'main.js'), 0o755);
