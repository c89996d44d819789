// The one way certsmith replaces a file (certificates, keys, state, challenge records, configs, units): a temp file in
// the same directory, written and fsynced, then renamed over the file, then the directory fsynced. A reader sees the
// old content or the new, never a part, and after a crash or a power loss the file is one or the other.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { closeSync, fchmodSync, fchownSync, fsync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface WriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
  /** Never replace: fail with EEXIST when the file is there (it is linked into place instead of renamed). */
  exclusive?: boolean;
}

/*
 * Small files (certificates, keys, state): open, write, chmod, close and rename are synchronous calls, a few
 * microseconds each, which cost far less CPU than the promise API (a thread-pool round trip and a promise per
 * call). Only fsync, which waits for the disk, goes to the thread pool, so that the event loop keeps serving
 * other targets meanwhile.
 */

/**
 * Writes a file so that a reader sees the old content or the new, never a part: a temp file in the same
 * directory (same filesystem), fsync, chmod before the content is visible, rename, fsync of the directory.
 * On any failure the temp file is removed and the old file is untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions): Promise<void> {
  await writeFilesAtomic([{ path, data, ...options }]);
}

/**
 * Several files, each atomic as in writeFileAtomic: every temp file is written and synced first, then they are
 * renamed in order, then each directory is synced once (not once per file). When any temp file cannot be written,
 * none is renamed and every temp file is removed; a rename that fails leaves the files renamed before it in place
 * (as separate writeFileAtomic calls would) and removes the rest of the temp files.
 */
export async function writeFilesAtomic(files: (WriteOptions & { path: string; data: string | Uint8Array })[]): Promise<void> {
  const temps: string[] = [];
  let renamed = 0;
  try {
    for (const file of files) {
      const temp = join(dirname(file.path), `.${basename(file.path)}.certsmith-${randomBytes(6).toString('hex')}`);
      const fd = openSync(temp, 'wx', file.mode);
      temps.push(temp);
      try {
        const bytes = typeof file.data === 'string' ? Buffer.from(file.data, 'utf8') : file.data;
        for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
        await fsyncOf(fd);
        fchmodSync(fd, file.mode); // the umask may have narrowed the mode given to open()
        if (file.uid !== undefined || file.gid !== undefined) fchownSync(fd, file.uid ?? -1, file.gid ?? -1);
      } finally {
        closeSync(fd);
      }
    }
    for (const [i, file] of files.entries()) {
      if (file.exclusive) {
        linkSync(temps[i]!, file.path);
        unlinkSync(temps[i]!);
      } else renameSync(temps[i]!, file.path);
      renamed++;
    }
  } catch (error) {
    for (const temp of temps.slice(renamed)) {
      try {
        unlinkSync(temp);
      } catch {
        /* not there */
      }
    }
    throw error;
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) await syncDirectory(dir);
}

/**
 * State that may hold a key or an account's history: 0600, in a directory made 0700 when it is missing, so that no
 * other user reads it.
 */
export async function writePrivateFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, data, { mode: 0o600 });
}

export async function syncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncOf(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncOf(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}
