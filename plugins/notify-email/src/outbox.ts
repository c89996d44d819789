import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@certsmith/core/atomic-file';

/** A message waiting in the outbox: the raw RFC 5322 text and the envelope it was meant for. */
export interface OutboxEntry {
  file: string;
  raw: Buffer;
}

/**
 * Where a notice goes when it cannot be sent (or when no transport is configured): one .eml file per
 * message, 0600 in a 0700 directory, written atomically. The next run that can send empties it, oldest first.
 */
export class Outbox {
  constructor(readonly dir: string) {}

  async put(raw: Buffer, at: Date): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const stamp = at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const file = join(this.dir, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
    await writeFileAtomic(file, raw, { mode: 0o600 });
    return file;
  }

  /** Messages waiting, oldest first (names start with the UTC time they were written). */
  async list(): Promise<OutboxEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: OutboxEntry[] = [];
    for (const name of names.filter((n) => n.endsWith('.eml')).sort()) {
      const file = join(this.dir, name);
      entries.push({ file, raw: await readFile(file) });
    }
    return entries;
  }

  async remove(entry: OutboxEntry): Promise<void> {
    await rm(entry.file, { force: true });
  }

  /** Sets aside a message the server refused for good, so that it does not block the ones after it. */
  async setAside(entry: OutboxEntry): Promise<string> {
    const file = `${entry.file}.rejected`;
    await rename(entry.file, file);
    return file;
  }
}
