import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@certsmith/core/atomic-file';
import { readFile as readSmallFile } from './read-file.js';

/** What an install in progress has done, so that the next run can undo it after a crash. */
export interface JournalEntry {
  service: string;
  store: string;
  /** The generation that was current before the install. */
  previous: string;
  /** The generation being installed. */
  next: string;
  /** Every service path the generations hold. */
  managed: string[];
  /** The last step done. */
  step: string;
  startedAt: string;
}

/** One small JSON file per service under the state directory, written atomically at each step. */
export class InstallJournal {
  readonly path: string;

  constructor(stateDir: string, service: string) {
    this.path = join(stateDir, 'installs', `${service}.json`);
  }

  async read(): Promise<JournalEntry | null> {
    const text = await readSmallFile(this.path).then(
      (b) => b.toString('utf8'),
      () => null,
    );
    if (text === null) return null;
    try {
      return JSON.parse(text) as JournalEntry;
    } catch {
      return null; // a torn journal cannot exist (atomic writes); an unreadable one is left for a person
    }
  }

  async write(entry: JournalEntry): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
  }

  async clear(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}
