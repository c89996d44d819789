import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, ftruncateSync, lstatSync, mkdirSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { lstat, readdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CertsmithError } from '@certsmith/core';

interface Entry {
  file: string;
  /** SHA-256 of what was written: a file whose content changed since is someone else's now. */
  sha256: string;
  /** Directories the entry's write created (journals of earlier versions; now recorded on their own, see CreatedDir). */
  createdDirs: string[];
}

/** A directory this process created (mkdir succeeded), and what identifies it: one made anew since is not ours. */
interface CreatedDir {
  dir: string;
  dev: number;
  ino: number;
  /** Birth time (ms, sub-ms precision): a directory removed and made again may get the same inode number back. */
  born?: number;
}

/** One line of a journal: its header, what happened to one entry, or a directory this process created. */
type JournalLine =
  { pid: number; startedAt: string } | ({ add: string; createdAt: string } & Entry) | { dirs: string; createdDirs: string[] } | { forget: string } | CreatedDir;

/** This process's open journals: the one exit listener removes those with nothing left in them. */
const openJournals = new Set<PublishLedger>();
let exitListener = false;

/**
 * Remembers, in the state directory, each file published below a docroot until it is removed, and each directory
 * made for one (`.well-known/acme-challenge`) until the end of the run, so that a run killed half-way leaves nothing
 * behind for long: the next run removes the leftovers it recognises as its own (listed here, writer process gone,
 * a file's content unchanged, a directory the same one, by device and inode, and empty). A directory is recorded only
 * once this process has made it: one an administrator made is never in the journal, so never removed.
 *
 * The directories stay for the whole run (making and removing them per challenge cost about 3 ms a certificate):
 * `close()`, at the end of the run or when the process exits, removes the empty ones, deepest first.
 *
 * One append-only journal per process (`<pid>-<time>-<random>.jsonl`): a line when a file is recorded, when the
 * directories its write created are known, and when it is forgotten. Parallel runs never share a file, and a run
 * creates one file however many challenges it publishes: on ext4 without a journal, creating a file costs about a
 * millisecond of kernel CPU (the inode allocator skips recently deleted inodes), which a file per entry paid twice
 * per name. The journal is emptied whenever nothing is left in it and removed when the process exits. Entries are
 * appended with synchronous calls (one small write, never interleaved); no fsync: after a power loss a lost line only
 * leaves a challenge file behind, which is harmless. Entry files of earlier versions (`<id>.json`) are swept too.
 */
export class PublishLedger {
  private swept: Promise<string[]> | undefined;
  private journal: { fd: number; path: string } | null = null;
  /** Recorded and not yet forgotten, with what the journal says of each. */
  private readonly live = new Map<string, Entry>();
  /** Directories this process created and has not removed, by path. */
  private readonly dirs = new Map<string, CreatedDir>();
  private dirMade = false;

  constructor(private readonly dir: string) {}

  /** Records a file about to be written; returns the entry's id. */
  async record(file: string, content: Uint8Array, createdDirs: string[] = []): Promise<string> {
    const id = `${Date.now()}-${randomBytes(6).toString('hex')}`;
    const entry: Entry = { file, sha256: sha256(content), createdDirs };
    this.append({ add: id, ...entry, createdAt: new Date().toISOString() });
    this.live.set(id, entry);
    return id;
  }

  /** Records a directory just made for a file (before the file is written into it). */
  recordDir(dir: string, st: { dev: number; ino: number; birthtimeMs?: number }): void {
    const created: CreatedDir = { dir, dev: st.dev, ino: st.ino, ...(st.birthtimeMs ? { born: st.birthtimeMs } : {}) };
    this.append(created);
    this.dirs.set(dir, created);
  }

  async forget(id: string): Promise<void> {
    if (!this.live.delete(id)) return;
    if (this.live.size > 0) return this.append({ forget: id });
    // No file left to remember: the journal starts over (no new file, so no inode to allocate), with the directories.
    try {
      ftruncateSync(this.journal!.fd, 0);
      this.writeLine(this.journal!.fd, { pid: process.pid, startedAt: new Date().toISOString() });
      for (const created of this.dirs.values()) this.writeLine(this.journal!.fd, created);
    } catch {
      this.append({ forget: id });
    }
  }

  /** The journal's path once something has been recorded (tests, diagnostics). */
  get path(): string | null {
    return this.journal?.path ?? null;
  }

  private append(line: JournalLine): void {
    this.writeLine(this.open(), line);
  }

  private writeLine(fd: number, line: JournalLine): void {
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
  }

  private open(): number {
    if (this.journal) return this.journal.fd;
    if (!this.dirMade) this.makeDir();
    const path = join(this.dir, `${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}.jsonl`);
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    let fd: number;
    try {
      fd = openSync(path, flags, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.stateError(error);
      this.makeDir(); // removed during the run: made again
      try {
        fd = openSync(path, flags, 0o600);
      } catch (again) {
        throw this.stateError(again);
      }
    }
    this.journal = { fd, path };
    this.writeLine(fd, { pid: process.pid, startedAt: new Date().toISOString() });
    openJournals.add(this);
    if (!exitListener) {
      exitListener = true;
      process.on('exit', () => {
        for (const ledger of openJournals) ledger.close();
      });
    }
    return fd;
  }

  /**
   * The end of the run: removes the directories this process created, deepest first, where they are empty and still
   * the ones it made; closes the journal and removes it when no file in it is still published (else the next run
   * sweeps it, with the directories those files keep).
   */
  close(): void {
    const journal = this.journal;
    if (!journal) return;
    for (const created of [...this.dirs.values()].sort((a, b) => b.dir.length - a.dir.length)) {
      // One that cannot go now (a file in it) stays recorded only while the journal is kept.
      if (removeDir(created) || this.live.size === 0) this.dirs.delete(created.dir);
    }
    this.journal = null;
    openJournals.delete(this);
    try {
      closeSync(journal.fd);
    } catch {
      /* already closed */
    }
    if (this.live.size === 0) {
      try {
        unlinkSync(journal.path);
      } catch {
        /* already gone */
      }
    }
  }

  private makeDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.dirMade = true;
    } catch (error) {
      throw this.stateError(error);
    }
  }

  private stateError(error: unknown): CertsmithError {
    return new CertsmithError(
      'DCV_HTTP_STATE',
      `paths.stateDir: cannot write in ${this.dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); HTTP DCV keeps its list of published files there`,
    );
  }

  /** Removes leftovers of runs that are gone, once per process; returns the files removed. */
  sweep(): Promise<string[]> {
    this.swept ??= this.sweepNow();
    return this.swept;
  }

  private async sweepNow(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      if (path === this.journal?.path) continue;
      let leftovers: { entries: Entry[]; dirs: CreatedDir[] } | null;
      if (name.endsWith('.jsonl')) leftovers = await readJournal(path);
      else if (name.endsWith('.json')) leftovers = await readEntryFile(path);
      else continue;
      if (leftovers === null) continue; // its writer is still running
      for (const entry of leftovers.entries) {
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
          try {
            await rmdir(dir);
          } catch {
            break;
          }
        }
      }
      for (const created of leftovers.dirs.sort((a, b) => b.dir.length - a.dir.length)) removeDir(created);
      await unlink(path).catch(() => undefined);
    }
    return removed;
  }
}

/**
 * A dead process's journal: the files it recorded and never forgot, the directories it made. Null while its writer
 * runs; nothing for an unreadable file.
 */
async function readJournal(path: string): Promise<{ entries: Entry[]; dirs: CreatedDir[] } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { entries: [], dirs: [] };
  }
  const entries = new Map<string, Entry>();
  const dirs = new Map<string, CreatedDir>();
  for (const raw of text.split('\n')) {
    let line: Partial<Record<string, unknown>>;
    try {
      line = JSON.parse(raw) as Partial<Record<string, unknown>>;
    } catch {
      continue; // a line torn by a crash, or the empty end
    }
    if (typeof line.pid === 'number' && line.pid !== process.pid && alive(line.pid)) return null;
    if (typeof line.add === 'string' && typeof line.file === 'string' && typeof line.sha256 === 'string') {
      entries.set(line.add, { file: line.file, sha256: line.sha256, createdDirs: strings(line.createdDirs) });
    } else if (typeof line.dirs === 'string') {
      const entry = entries.get(line.dirs);
      if (entry) entry.createdDirs = strings(line.createdDirs);
    } else if (typeof line.forget === 'string') {
      entries.delete(line.forget);
    } else if (typeof line.dir === 'string' && typeof line.dev === 'number' && typeof line.ino === 'number') {
      dirs.set(line.dir, { dir: line.dir, dev: line.dev, ino: line.ino, ...(typeof line.born === 'number' ? { born: line.born } : {}) });
    }
  }
  return { entries: [...entries.values()], dirs: [...dirs.values()] };
}

/** Removes a directory this process made, if it is still that one (same device and inode) and empty; true when gone. */
function removeDir(created: CreatedDir): boolean {
  try {
    const st = lstatSync(created.dir);
    const anew = created.born !== undefined && st.birthtimeMs !== created.born;
    if (!st.isDirectory() || st.dev !== created.dev || st.ino !== created.ino || anew) return true; // not ours any more
    rmdirSync(created.dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** An entry file of an earlier version (one file per entry, with its writer's pid). */
async function readEntryFile(path: string): Promise<{ entries: Entry[]; dirs: CreatedDir[] } | null> {
  let entry: Partial<Entry & { pid: number }>;
  try {
    entry = JSON.parse(await readFile(path, 'utf8')) as Partial<Entry & { pid: number }>;
  } catch {
    return { entries: [], dirs: [] };
  }
  if (typeof entry.pid === 'number' && entry.pid !== process.pid && alive(entry.pid)) return null;
  if (typeof entry.file !== 'string' || typeof entry.sha256 !== 'string') return { entries: [], dirs: [] };
  return { entries: [{ file: entry.file, sha256: entry.sha256, createdDirs: strings(entry.createdDirs) }], dirs: [] };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
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
