import { randomBytes } from 'node:crypto';
import { chown, copyFile, lstat, mkdir, open, readdir, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from '@certsmith/core/atomic-file';

export interface StagedEntry {
  /** The service path this entry is shown at (through a link). */
  path: string;
  data: string | Uint8Array;
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * A service's files kept as generations, so that a certificate and its key change together:
 * each service path is a symlink to `<store>/current/<entry>`, `current` is a symlink to one generation
 * directory, and switching generations is one rename(2) of `current` (Kubernetes' AtomicWriter idea).
 * A reader, or a process killed at any point, sees one whole generation: the old pair or the new one.
 */
export class GenerationStore {
  readonly current: string;

  constructor(
    readonly dir: string,
    private readonly serviceDir: string,
  ) {
    this.current = join(dir, 'current');
  }

  /** The file name a service path has inside a generation. */
  entryName(path: string): string {
    return dirname(path) === this.serviceDir ? basename(path) : `@${path.replace(/^\//, '').replace(/\//g, '@')}`;
  }

  /** What the link at a service path points to. */
  linkTarget(path: string): string {
    return join(this.current, this.entryName(path));
  }

  async currentGeneration(): Promise<string | null> {
    return readlink(this.current).then(
      (t) => basename(t),
      () => null,
    );
  }

  /** Whether a service path is already our link. */
  async isOurLink(path: string, target = this.linkTarget(path)): Promise<boolean> {
    return readlink(path).then(
      (t) => t === target,
      () => false,
    );
  }

  newGenerationName(): string {
    return `gen-${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-')}-${randomBytes(3).toString('hex')}`;
  }

  /** Makes a generation directory holding copies of `carry` entries of `from` and the given new entries. */
  async stage(name: string, from: string | null, carry: string[], entries: StagedEntry[], afterFirst?: () => void): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const gen = join(this.dir, name);
    await mkdir(gen, { mode: 0o755 });
    for (const entry of carry) {
      if (!from) break;
      const source = join(this.dir, from, entry);
      const st = await stat(source).catch(() => null);
      if (!st) continue;
      await copyFile(source, join(gen, entry));
      await chown(join(gen, entry), st.uid, st.gid);
      await syncFile(join(gen, entry));
    }
    let first = true;
    for (const entry of entries) {
      const file = join(gen, this.entryName(entry.path));
      const handle = await open(file, 'wx', entry.mode);
      try {
        await handle.writeFile(entry.data);
        await handle.chmod(entry.mode);
        if (entry.uid !== undefined || entry.gid !== undefined) await handle.chown(entry.uid ?? -1, entry.gid ?? -1);
        await handle.sync();
      } catch (error) {
        // Writes through a handle carry no path: name the service file the error is about.
        (error as NodeJS.ErrnoException).path ??= entry.path;
        throw error;
      } finally {
        await handle.close();
      }
      if (first) afterFirst?.();
      first = false;
    }
    await syncDirectory(gen);
    await syncDirectory(this.dir);
  }

  /** Points `current` at a generation, atomically. */
  async switchTo(name: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    await replaceWithLink(this.current, name);
    await syncDirectory(this.dir);
  }

  /** Replaces a service path (a regular file, nothing, or our link) by our link, atomically. */
  async link(path: string, target = this.linkTarget(path)): Promise<void> {
    await replaceWithLink(path, target);
    await syncDirectory(dirname(path));
  }

  /** The entry names a generation holds. */
  async entries(name: string): Promise<string[]> {
    return readdir(join(this.dir, name)).catch(() => []);
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  /** Removes every generation but the ones named. */
  async prune(keep: (string | null)[]): Promise<void> {
    for (const entry of await readdir(this.dir).catch(() => [] as string[])) {
      if (entry.startsWith('gen-') && !keep.includes(entry)) await this.remove(entry);
    }
  }

  async exists(): Promise<boolean> {
    return lstat(this.current).then(
      () => true,
      () => false,
    );
  }
}

async function replaceWithLink(path: string, target: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.certsmith-${randomBytes(6).toString('hex')}`);
  await symlink(target, temp);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
