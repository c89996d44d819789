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
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { CertsmithError } from '@certsmith/core';

/** One file written below a docroot. */
export interface DocrootFile {
  /** Absolute path of the file. */
  file: string;
  /** URL path (leading slash). */
  urlPath: string;
  /** Directories this write created, deepest first, for cleanup. */
  createdDirs: string[];
}

/**
 * Per docroot, shared by every instance in this process: the directories writes created, and the files written
 * here that are still in place. Only when the last is removed are the directories taken away (once empty).
 *
 * The file system calls are synchronous on purpose: a challenge file is a dozen small calls on a local disk, where
 * the promise API costs two to three times the CPU (a thread-pool round trip, a promise and often an error object
 * per call). Being synchronous, one write runs whole before any other: targets that share a docroot cannot
 * interleave. Only the directories' removal (rmdir can block for a millisecond) runs in the background, and writes
 * wait for it, so one target's clean-up can never remove `.well-known/...` between another's mkdir and its file.
 */
interface RootState {
  created: Set<string>;
  /** A file published twice (a leftover taken over) is one entry: one removal takes it away. */
  live: Set<string>;
  /** The directories' removal, while it runs: writes wait for it (see Docroot.write). */
  removing: Promise<void> | null;
}
const roots = new Map<string, RootState>();

/**
 * Writes challenge files below one docroot and nowhere else: every directory on the way is checked to be a
 * real directory inside the docroot (a symlink leading out is refused), and files are created exclusively
 * (O_EXCL never follows a symlink), mode 0644 whatever the umask, directories 0755.
 */
export class Docroot {
  private readonly state: RootState;

  constructor(
    readonly root: string,
    private readonly field: string,
  ) {
    let state = roots.get(root);
    if (!state) roots.set(root, (state = { created: new Set(), live: new Set(), removing: null }));
    this.state = state;
  }

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
  async write(urlPath: string, content: Uint8Array): Promise<DocrootFile> {
    // rmdir blocks for a millisecond or more on some file systems (ext4 with discard), so directories are removed in
    // the background; a write waits until none is under way, then runs whole: it never sees a directory vanish.
    while (this.state.removing) await this.state.removing;
    return this.writeNow(urlPath, content);
  }

  private writeNow(urlPath: string, content: Uint8Array): DocrootFile {
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
          this.state.created.add(dir);
          continue; // made just now by this call: a real directory inside the docroot
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.failed(this.writeError(error, dir), createdDirs);
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
          throw this.failed(
            new CertsmithError(
              'DCV_HTTP_DOCROOT_SYMLINK',
              `${this.field}: ${dir} is a symlink to ${target}, outside the docroot ${this.root}; refusing to write there (remove the link or make it point inside the docroot)`,
            ),
            createdDirs,
          );
        }
      } else if (!st.isDirectory()) {
        throw this.failed(
          new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: ${dir} exists and is not a directory; remove it so the validation file can be published`),
          createdDirs,
        );
      }
    }
    const file = join(dir, parts.at(-1)!);
    let fd: number;
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        // The same name and content is this challenge already (a leftover an issuer tidies by publishing it again):
        // taken over, so that cleanup removes it. Anything else is someone's file and stays untouched.
        const st = lstatSync(file);
        if (st.isFile() && Buffer.from(content).equals(readFileSync(file))) {
          this.state.live.add(file);
          return { file, urlPath, createdDirs };
        }
        throw this.failed(
          new CertsmithError(
            'DCV_HTTP_FILE_EXISTS',
            `${file} already exists with other content${st.isSymbolicLink() ? ' (a symlink)' : ''}; it was not written by this run: remove it and run again`,
          ),
          createdDirs,
        );
      }
      throw this.failed(this.writeError(error, file), createdDirs);
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
      throw this.failed(this.writeError(error, file), createdDirs);
    }
    // Challenge files are ephemeral (removed within the run, swept after a crash): no fsync.
    this.state.live.add(file);
    return { file, urlPath, createdDirs };
  }

  /** Removes what write() created; a directory another file still uses stays. */
  async remove(written: DocrootFile): Promise<void> {
    while (this.state.removing) await this.state.removing;
    this.removeNow(written);
    // While another file written here is in place, its directories are in use: nothing to try yet.
    if (this.state.live.size > 0 || this.state.created.size === 0) return;
    const removing = this.removeCreatedInBackground();
    this.state.removing = removing;
    try {
      await removing;
    } finally {
      if (this.state.removing === removing) this.state.removing = null;
    }
  }

  private async removeCreatedInBackground(): Promise<void> {
    for (const dir of [...this.state.created].sort((a, b) => b.length - a.length)) {
      try {
        await rmdir(dir);
        this.state.created.delete(dir);
      } catch (error) {
        // ENOTEMPTY: someone else's file is there
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.state.created.delete(dir);
      }
    }
  }

  private removeNow(written: DocrootFile): void {
    try {
      unlinkSync(written.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.state.live.delete(written.file);
  }

  /** The directories writes created, deepest first, at once (after a failed write); one that is not empty stays. */
  private removeCreated(): void {
    for (const dir of [...this.state.created].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(dir);
        this.state.created.delete(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.state.created.delete(dir);
      }
    }
  }

  /** After a failed write: the directories it created go again unless files written here are in place. */
  private failed(error: CertsmithError, createdDirs: string[]): CertsmithError {
    if (createdDirs.length && this.state.live.size === 0) this.removeCreated();
    return error;
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
