import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { lstat, readdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CertsmithError } from '@certsmith/core';

interface Entry {
  file: string;
  /** SHA-256 of what was written: a file whose content changed since is someone else's now. */
  sha256: string;
  createdDirs: string[];
  pid: number;
  createdAt: string;
}

/**
 * Remembers, in the state directory, each file published below a docroot until it is removed, so that a run
 * killed half-way leaves nothing behind for long: the next run removes the leftovers it recognises as its own
 * (listed here, writer process gone, content unchanged). One small file per entry, so parallel publishes never
 * contend for one file.
 */
export class PublishLedger {
  private swept: Promise<string[]> | undefined;
  /** The entries this process wrote and has not forgotten, so that an update need not read its file back. */
  private readonly entries = new Map<string, Entry>();
  private dirMade = false;

  constructor(private readonly dir: string) {}

  /**
   * Records a file about to be written; returns the entry's id. Synchronous calls (one small write), as in
   * Docroot; no fsync: after a power loss a lost entry only leaves a challenge file behind, which is harmless.
   */
  async record(file: string, content: Uint8Array, createdDirs: string[] = []): Promise<string> {
    const id = `${Date.now()}-${randomBytes(6).toString('hex')}`;
    const entry: Entry = { file, sha256: sha256(content), createdDirs, pid: process.pid, createdAt: new Date().toISOString() };
    this.write(id, entry);
    this.entries.set(id, entry);
    return id;
  }

  /** Adds the directories a write created, once they are known. */
  async update(id: string, createdDirs: string[]): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.createdDirs = createdDirs;
    this.write(id, entry);
  }

  async forget(id: string): Promise<void> {
    this.entries.delete(id);
    try {
      unlinkSync(join(this.dir, `${id}.json`));
    } catch {
      // already gone
    }
  }

  private write(id: string, entry: Entry): void {
    const path = join(this.dir, `${id}.json`);
    if (!this.dirMade) this.makeDir();
    try {
      writeFileSync(path, JSON.stringify(entry), { mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.makeDir(); // removed during the run: made again
      writeFileSync(path, JSON.stringify(entry), { mode: 0o600 });
    }
  }

  private makeDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.dirMade = true;
    } catch (error) {
      throw new CertsmithError('DCV_HTTP_STATE', `paths.stateDir: cannot create ${this.dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); HTTP DCV keeps its list of published files there`);
    }
  }

  /** Removes leftovers of runs that are gone, once per process; returns the files removed. */
  sweep(): Promise<string[]> {
    this.swept ??= this.sweepNow();
    return this.swept;
  }

  private async sweepNow(): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      let entry: Entry;
      try {
        entry = JSON.parse(await readFile(path, 'utf8')) as Entry;
      } catch {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (entry.pid !== process.pid && alive(entry.pid)) continue; // another run is still using it
      try {
        const st = await lstat(entry.file);
        if (st.isFile() && sha256(await readFile(entry.file)) === entry.sha256) {
          await unlink(entry.file);
          removed.push(entry.file);
        }
      } catch {
        // already gone
      }
      for (const dir of entry.createdDirs) {
        try { await rmdir(dir); } catch { break; }
      }
      await unlink(path).catch(() => undefined);
    }
    return removed;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
