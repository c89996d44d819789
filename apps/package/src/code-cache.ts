// The installed package's loader for its CommonJS files (the vendored libraries and the NATS clients): each is run
// with a V8 code cache kept in the package's own cache directory, so that a run does not parse and compile ~0.5 MB of
// client code again. Node 20 has no compile cache of its own (module.enableCompileCache came with Node 22), and the
// NATS clients cost a run that reports to its fleet more CPU than the report itself.
//
// V8 runs cached bytecode as it is: it checks a header (its version, its flags, the source's length), not the bytes.
// So a cache is trusted only as far as the code beside it:
// - it lives in the package's own directory (dist/cache/), made 0755 with files 0644 whatever the umask, and one that
//   is writable by group or others, or owned by another user than this one or root, is not used;
// - its name carries the source's SHA-256, node's version, the architecture and node's command-line flags, so a
//   changed file is never run with another's cache;
// - the file starts with the SHA-256 of what follows, so a file damaged on disk (a crash that left zeros) is compiled
//   past, not run; it is written to a temporary file, fsynced, then renamed.
// A cache V8 refuses anyway (flags set at run time) is compiled past and written again. A directory that cannot be
// written (a read-only /usr, a user who is not the package's owner) only means no cache.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
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

const HASH_BYTES = 32;
/** A temporary file older than this is one a killed run left. */
const STALE_TEMPORARY_MS = 60_000;

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

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data);

/** The cache file of `file` with this source, under `cacheDir`. */
export function cacheFileOf(file: string, source: string, cacheDir: string): string {
  const digest = sha256(source).digest('hex').slice(0, 32);
  // V8's flags come from node's options (not from a -e script's text, which execArgv also holds).
  const options = process.execArgv.filter((a) => a.startsWith('--'));
  const flags = sha256(`${options.join(' ')}\n${process.env.NODE_OPTIONS ?? ''}`)
    .digest('hex')
    .slice(0, 8);
  return join(cacheDir, `${basename(file)}.${digest}.${process.version}.${process.arch}.${flags}.v8`);
}

/** Runs the CommonJS `file` as node's require() would, with a V8 code cache from (and, when missing, to) `cacheDir`. */
export function requireCached(file: string, cacheDir: string): Exports {
  const known = loaded.get(file);
  if (known) return known;
  const source = readFileSync(file, 'utf8');
  const cacheFile = cacheFileOf(file, source, cacheDir);
  const cachedData = trustedCache(cacheFile);
  const script = new Script(wrap(source), { filename: file, cachedData });
  if (!cachedData || script.cachedDataRejected) remember({ script, file, cacheFile });
  const module = { exports: {} as Exports };
  const compiled = script.runInThisContext() as (exports: Exports, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  compiled.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  loaded.set(file, module.exports);
  return module.exports;
}

/** The cache's bytes, when the file is there, only this user (or root) could have written it, and it is whole. */
function trustedCache(cacheFile: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(cacheFile, 'r');
  } catch {
    return undefined;
  }
  try {
    if (!writableOnlyByOwner(fstatSync(fd)) || !writableOnlyByOwner(statSync(dirname(cacheFile)))) return undefined;
    const bytes = readFileSync(fd);
    const data = bytes.subarray(HASH_BYTES);
    return bytes.length > HASH_BYTES && sha256(data).digest().equals(bytes.subarray(0, HASH_BYTES)) ? data : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function writableOnlyByOwner(stats: { mode: number; uid: number }): boolean {
  const owners = [0, process.geteuid?.() ?? 0];
  return (stats.mode & 0o022) === 0 && owners.includes(stats.uid);
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
      mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o755 });
      const data = script.createCachedData();
      writeSynced(temporary, Buffer.concat([sha256(data).digest(), data]));
      renameSync(temporary, cacheFile);
      removeOthers(cacheFile, file);
    } catch {
      removeQuietly(temporary);
    }
  }
}

/** A new file (never one that is there: 'wx'), 0644 whatever the umask, on disk before it is renamed into place. */
function writeSynced(file: string, bytes: Buffer): void {
  const fd = openSync(file, 'wx', 0o644);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Its directory is not one: nothing was written.
  }
}

/**
 * The caches of the same file made from another source (they would never be used again), and temporary files a
 * killed run left. Caches of this source for another node or other flags are kept: two of them may take turns.
 */
function removeOthers(cacheFile: string, file: string): void {
  const dir = dirname(cacheFile);
  const prefix = `${basename(file)}.`;
  const source = basename(cacheFile).slice(prefix.length).split('.')[0];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const path = join(dir, name);
    const otherSource = name.endsWith('.v8') && name.slice(prefix.length).split('.')[0] !== source;
    const leftOver = name.endsWith('.tmp') && Date.now() - statSync(path).mtimeMs > STALE_TEMPORARY_MS;
    if (otherSource || leftOver) removeQuietly(path);
  }
}
