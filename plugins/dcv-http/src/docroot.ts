import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CertsmithError } from '@certsmith/core';

/** One file written below a docroot. */
export interface DocrootFile {
  /** Absolute path of the file. */
  file: string;
  /** URL path (leading slash). */
  urlPath: string;
  /** Directories this write created, deepest first. */
  createdDirs: string[];
}

/**
 * Told of each directory a write creates, as soon as it exists (before the file is written into it), with what
 * identifies it (device and inode), so that the directory can be recorded for removal at the end of the run.
 */
export type DirCreated = (dir: string, st: Stats) => void;

/**
 * Writes challenge files below one docroot and nowhere else: every directory on the way is checked to be a
 * real directory inside the docroot (a symlink leading out is refused), and files are created exclusively
 * (O_EXCL never follows a symlink), mode 0644 whatever the umask, directories 0755.
 *
 * The directories a write creates (`.well-known/acme-challenge`) are not removed with the file: they stay for the
 * rest of the run, for the next challenge, and whoever is told of them (`onDirCreated`) removes them at its end.
 * Creating and removing them per challenge cost about 3 ms a certificate (mkdir and rmdir on ext4).
 *
 * The file system calls are synchronous on purpose: a challenge file is a dozen small calls on a local disk, where
 * the promise API costs two to three times the CPU (a thread-pool round trip, a promise and often an error object
 * per call). Being synchronous, one write runs whole before any other.
 */
export class Docroot {
  constructor(
    readonly root: string,
    private readonly field: string,
  ) {}

  /** The docroot exists, is a directory, and can be written; else a CertsmithError naming the config field. */
  async ensureUsable(): Promise<string> {
    return this.usable();
  }

  /** Resolved anew on every write: a docroot the administrator moves or relinks during a run is followed. */
  private usable(): string {
    let real: string;
    try {
      real = realpathSync.native(this.root);
      const st = lstatSync(real);
      if (!st.isDirectory())
        throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: ${this.root} is not a directory; set it to the web server's document root`);
      accessSync(real, constants.W_OK | constants.X_OK);
    } catch (error) {
      if (error instanceof CertsmithError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT')
        throw new CertsmithError(
          'DCV_HTTP_DOCROOT',
          `${this.field}: the docroot ${this.root} does not exist; set it to the directory the web server serves for these names`,
        );
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
        throw new CertsmithError(
          'DCV_HTTP_DOCROOT',
          `${this.field}: the docroot ${this.root} is not writable by this user; run as root or fix its permissions`,
        );
      throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: the docroot ${this.root} is not usable (${code ?? (error as Error).message})`);
    }
    return real;
  }

  /** Creates `urlPath` (e.g. /.well-known/acme-challenge/TOKEN) with `content`. */
  async write(urlPath: string, content: Uint8Array, onDirCreated: DirCreated = () => undefined): Promise<DocrootFile> {
    return this.writeNow(urlPath, content, onDirCreated, false);
  }

  private writeNow(urlPath: string, content: Uint8Array, onDirCreated: DirCreated, again: boolean): DocrootFile {
    const real = this.usable();
    const parts = urlPath.split('/').filter(Boolean);
    if (parts.length === 0 || parts.some((p) => p === '.' || p === '..' || p.includes('\0') || p.includes('\\'))) {
      throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `refusing to publish "${urlPath}": not a plain path below the docroot`);
    }
    const createdDirs: string[] = [];
    let dir = real;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      // lstat first: an existing directory (the usual case) costs one call and no error object.
      let st = lstatSync(dir, { throwIfNoEntry: false });
      if (!st) {
        try {
          mkdirSync(dir, { mode: 0o755 });
          chmodSync(dir, 0o755); // the umask may have narrowed the mode given to mkdir
          createdDirs.unshift(dir);
          onDirCreated(dir, lstatSync(dir));
          continue; // made just now by this call: a real directory inside the docroot
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.writeError(error, dir);
          st = lstatSync(dir); // someone else made it in between: checked like any existing entry
        }
      }
      if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync.native(dir);
        } catch {
          target = '(dangling)';
        }
        if (!inside(real, target)) {
          throw new CertsmithError(
            'DCV_HTTP_DOCROOT_SYMLINK',
            `${this.field}: ${dir} is a symlink to ${target}, outside the docroot ${this.root}; refusing to write there (remove the link or make it point inside the docroot)`,
          );
        }
      } else if (!st.isDirectory()) {
        throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: ${dir} exists and is not a directory; remove it so the validation file can be published`);
      }
    }
    const file = join(dir, parts.at(-1)!);
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // The same name and content is this challenge already (a leftover an issuer tidies by publishing it again):
        // taken over, so that cleanup removes it. Anything else is someone's file and stays untouched.
        const st = lstatSync(file);
        if (st.isFile() && Buffer.from(content).equals(readFileSync(file))) return { file, urlPath, createdDirs };
        throw new CertsmithError(
          'DCV_HTTP_FILE_EXISTS',
          `${file} already exists with other content${st.isSymbolicLink() ? ' (a symlink)' : ''}; it was not written by this run: remove it and run again`,
        );
      }
      // Another run's end removed the directory between our look and the file: once more, making it anew.
      if (code === 'ENOENT' && !again) return this.writeNow(urlPath, content, onDirCreated, true);
      throw this.writeError(error, file);
    }
    try {
      for (let at = 0; at < content.length;) at += writeSync(fd, content, at);
      fchmodSync(fd, 0o644);
      closeSync(fd);
    } catch (error) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
      try {
        unlinkSync(file);
      } catch {
        /* nothing to remove */
      }
      throw this.writeError(error, file);
    }
    // Challenge files are ephemeral (removed within the run, swept after a crash): no fsync.
    return { file, urlPath, createdDirs };
  }

  /** Removes the file write() wrote; the directories stay for the run (see the class comment). */
  async remove(written: DocrootFile): Promise<void> {
    try {
      unlinkSync(written.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private writeError(error: unknown, path: string): CertsmithError {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ELOOP'
          ? 'a symlink is in the way'
          : code === 'ENOSPC'
            ? 'no space left'
            : (code ?? (error as Error).message);
    return new CertsmithError('DCV_HTTP_WRITE_FAILED', `${this.field}: cannot write ${path} (${why})`, { cause: error });
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}
