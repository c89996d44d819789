import { randomBytes } from 'node:crypto';
import { chmod, chown, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface WriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * Writes a file so that a reader sees the old content or the new, never a part: a temp file in the same
 * directory (same filesystem), fsync, chmod before the content is visible, rename, fsync of the directory.
 * On any failure the temp file is removed and the old file is untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.certsmith-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', options.mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, options.mode); // the umask may have narrowed the mode given to open()
    if (options.uid !== undefined || options.gid !== undefined) await chown(temp, options.uid ?? -1, options.gid ?? -1);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
