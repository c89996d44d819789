// The installed package's loader for its CommonJS files (the vendored libraries and the NATS clients): each is run
// with a V8 code cache kept in the package's own cache directory, so that a run does not parse and compile ~0.5 MB of
// client code again. Node 20 has no compile cache of its own (module.enableCompileCache came with Node 22), and the
// NATS clients cost a run that reports to its fleet more CPU than the report itself.
//
// The cache lives beside the code it speeds up (dist/cache/), writable by whoever could already replace that code: no
// new trust is given to any other directory. A cache file's name carries the source's sha256, node's version and
// the architecture, so a changed file is never run with another's cache; V8 refuses one made by another V8 or with
// other flags, and the file is then compiled as usual and its cache written again. A directory that cannot be
// written (a read-only /usr, a user who is not the package's owner) only means no cache.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** A CommonJS module's exports, loaded once per process. */
type Exports = Record<string, unknown>;

interface Pending {
  script: Script;
  file: string;
  cacheFile: string;
}

const loaded = new Map<string, Exports>();
/** Scripts whose cache is missing or was refused: written when the process ends, with what it compiled by then. */
const toWrite: Pending[] = [];

/**
 * The package's vendored group `dist/lib/vendor/<group>.cjs`, cached in `dist/cache/`. The build makes this file
 * `dist/lib/code-cache.cjs`, and each `import()` or `require()` of a vendored library in the package calls this.
 */
export function requireVendor(group: string): Exports {
  return requireCached(join(__dirname, 'vendor', `${group}.cjs`), join(__dirname, '..', 'cache'));
}

/** The cache file of `file` with this source, under `cacheDir`. */
export function cacheFileOf(file: string, source: string, cacheDir: string): string {
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 32);
  return join(cacheDir, `${basename(file)}.${digest}.${process.version}.${process.arch}.v8`);
}

/** Runs the CommonJS `file` as node's require() would, with a V8 code cache from (and, when missing, to) `cacheDir`. */
export function requireCached(file: string, cacheDir: string): Exports {
  const known = loaded.get(file);
  if (known) return known;
  const source = readFileSync(file, 'utf8');
  const cacheFile = cacheFileOf(file, source, cacheDir);
  const cachedData = readIfAny(cacheFile);
  const script = new Script(wrap(source), { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) remember({ script, file, cacheFile });
  const module = { exports: {} as Exports };
  const compiled = script.runInThisContext() as (exports: Exports, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  compiled.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  loaded.set(file, module.exports);
  return module.exports;
}

function readIfAny(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function remember(pending: Pending): void {
  if (toWrite.length === 0) process.once('exit', writeCaches);
  toWrite.push(pending);
}

/** At exit, the functions the run compiled are in the cache too: the next run compiles none of them. */
export function writeCaches(): void {
  for (const { script, file, cacheFile } of toWrite.splice(0)) {
    const temporary = `${cacheFile}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
      removeOthers(cacheFile, file);
    } catch {
      removeQuietly(temporary);
    }
  }
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Its directory is not one: nothing was written.
  }
}

/** The caches of the same file made from another source or by another node: they would never be used again. */
function removeOthers(cacheFile: string, file: string): void {
  const dir = dirname(cacheFile);
  const prefix = `${basename(file)}.`;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix) && name.endsWith('.v8') && join(dir, name) !== cacheFile) rmSync(join(dir, name), { force: true });
  }
}
