// Each load is a process of its own, as each run is: within one process V8 finds a script it compiled before in its
// own compilation cache and never looks at the code cache it is given.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

let loaderDir: string;
let dir: string;

beforeAll(async () => {
  loaderDir = await mkdtemp(join(tmpdir(), 'code-cache-loader-'));
  const entry = fileURLToPath(new URL('./code-cache.ts', import.meta.url));
  await build({ entryPoints: [entry], outfile: join(loaderDir, 'code-cache.cjs'), bundle: true, format: 'cjs', platform: 'node', logLevel: 'warning' });
});
afterAll(async () => {
  await rm(loaderDir, { recursive: true, force: true });
});

/** A new node process that loads lib.cjs through the loader and prints its exports; the loader writes at exit. */
async function loadInNewProcess(options: { umask?: number } = {}): Promise<Record<string, unknown>> {
  const script = `${options.umask === undefined ? '' : `process.umask(${options.umask});`}
const { requireCached } = require(${JSON.stringify(join(loaderDir, 'code-cache.cjs'))});
const lib = requireCached(${JSON.stringify(join(dir, 'lib.cjs'))}, ${JSON.stringify(join(dir, 'cache'))});
if (requireCached(${JSON.stringify(join(dir, 'lib.cjs'))}, ${JSON.stringify(join(dir, 'cache'))}) !== lib) throw new Error('loaded twice');
process.stdout.write(JSON.stringify(lib));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

const cacheFiles = async () => (await readdir(join(dir, 'cache')).catch(() => [] as string[])).sort();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code-cache-'));
  await writeFile(join(dir, 'helper.cjs'), 'module.exports = { twice: (n) => n * 2 };\n');
  await writeFile(
    join(dir, 'lib.cjs'),
    "const { twice } = require('./helper.cjs');\nconst path = require('node:path');\nexports.answer = twice(21);\nexports.where = path.basename(__dirname);\nexports.file = __filename;\n",
  );
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('requireCached', () => {
  it('runs a CommonJS file as require() does: its exports, its own require, __dirname and __filename', async () => {
    expect(await loadInNewProcess()).toEqual({ answer: 42, where: dir.split('/').pop(), file: join(dir, 'lib.cjs') });
  });

  it('writes the cache at the end of the first run, and a later run uses it without writing it again', async () => {
    await loadInNewProcess();
    const [written] = await cacheFiles();
    expect(written).toMatch(new RegExp(`^lib\\.cjs\\.[0-9a-f]{32}\\.${process.version.replace(/\./g, '\\.')}\\.${process.arch}\\.[0-9a-f]{8}\\.v8$`));
    const before = await stat(join(dir, 'cache', written!));

    expect((await loadInNewProcess()).answer).toBe(42);
    const after = await stat(join(dir, 'cache', written!));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('a cache V8 refuses (garbage) is compiled past and written again', async () => {
    await loadInNewProcess();
    const [written] = await cacheFiles();
    await writeFile(join(dir, 'cache', written!), 'not a V8 code cache');

    expect((await loadInNewProcess()).answer).toBe(42);
    expect(await readFile(join(dir, 'cache', written!), 'utf8')).not.toBe('not a V8 code cache');
  });

  it('a cache damaged on disk past its header (zeros where a crash left them) is compiled past, not run, and written again', async () => {
    await loadInNewProcess();
    const [written] = await cacheFiles();
    const bytes = await readFile(join(dir, 'cache', written!));
    bytes.fill(0, Math.floor(bytes.length / 2));
    await writeFile(join(dir, 'cache', written!), bytes);

    expect((await loadInNewProcess()).answer).toBe(42);
    expect((await readFile(join(dir, 'cache', written!))).equals(bytes)).toBe(false);
  });

  it('whatever the umask, the cache is 0755/0644; one that others could have written is not used but made again', async () => {
    await loadInNewProcess({ umask: 0 });
    const [written] = await cacheFiles();
    const file = join(dir, 'cache', written!);
    expect([(await stat(join(dir, 'cache'))).mode & 0o777, (await stat(file)).mode & 0o777]).toEqual([0o755, 0o644]);
    await chmod(file, 0o666);
    const planted = (await stat(file)).ino;

    expect((await loadInNewProcess()).answer).toBe(42);
    const after = await stat(file);
    expect(after.ino).not.toBe(planted);
    expect(after.mode & 0o777).toBe(0o644);
  });

  it('a changed file never runs with the old cache: a new cache is written and the old one removed', async () => {
    await loadInNewProcess();
    const [old] = await cacheFiles();
    // Same length, other content: V8 itself compares only the length.
    await writeFile(join(dir, 'lib.cjs'), (await readFile(join(dir, 'lib.cjs'), 'utf8')).replace('twice(21)', 'twice(33)'));

    expect((await loadInNewProcess()).answer).toBe(66);
    const now = await cacheFiles();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(old);
  });

  it('a cache directory that cannot be written only means no cache', async () => {
    await writeFile(join(dir, 'cache'), 'a file where the directory should be');
    expect((await loadInNewProcess()).answer).toBe(42);
    expect((await readdir(dir)).sort()).toEqual(['cache', 'helper.cjs', 'lib.cjs']);
  });
});
