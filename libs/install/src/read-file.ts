import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** No certificate, key or journal is this large; a larger file is refused rather than read into memory. */
export const MAX_SMALL_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Reads a small file (a certificate, a key, an install journal) synchronously. The healthy path reads two or more of
 * them per service and target, from the page cache: handing each open/fstat/read/close to libuv's thread pool cost
 * more CPU than the reads themselves (a 10,000-target run: 13.6 s of CPU through fs.readFile's callbacks, 9.2–10.1 s
 * synchronously, and far less wall time on two cores). Files that are not regular (a FIFO, a device) and files over
 * MAX_SMALL_FILE_BYTES are refused with an error that says so, so a misnamed path can neither block nor fill memory.
 */
export function readSmallFileSync(path: string): Buffer {
  return readSmallFileWithMode(path).bytes;
}

/** readSmallFileSync, with the file's permission bits (from the same fstat: a key's mode costs no extra call). */
export function readSmallFileWithMode(path: string): { bytes: Buffer; mode: number } {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer; on a regular file it changes nothing.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    return { bytes: readOpen(fd, path, stat.size, stat.isFile()), mode: stat.mode & 0o7777 };
  } finally {
    closeSync(fd);
  }
}

/** Reads an open file of `size` bytes, refusing what is not a regular file or is too large to be a key or certificate. */
function readOpen(fd: number, path: string, size: number, regular: boolean): Buffer {
  if (!regular) throw Object.assign(new Error(`${path}: not a regular file`), { code: 'ENOTREG' });
  if (size > MAX_SMALL_FILE_BYTES) {
    throw Object.assign(new Error(`${path}: ${size} bytes is larger than any certificate or key file (limit ${MAX_SMALL_FILE_BYTES})`), { code: 'EFBIG' });
  }
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < bytes.length) {
    const n = readSync(fd, bytes, filled, bytes.length - filled, null);
    if (n === 0) break; // the file shrank while being read: what is there is what it holds
    filled += n;
  }
  return filled === bytes.length ? bytes : bytes.subarray(0, filled);
}

/** readSmallFileSync as a promise, for callers written against fs/promises; rejects instead of throwing. */
export function readFile(path: string): Promise<Buffer> {
  try {
    return Promise.resolve(readSmallFileSync(path));
  } catch (error) {
    return Promise.reject(error);
  }
}
