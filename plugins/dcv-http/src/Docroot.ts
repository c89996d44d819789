import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, open, readFile, realpath, rmdir, unlink } from 'node:fs/promises';
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
 * Writes and removals below one docroot, one at a time within this process: targets that share a docroot publish
 * concurrently, and one target's clean-up must not remove `.well-known/...` between another's mkdir and its file.
 */
const docrootQueues = new Map<string, Promise<unknown>>();
const createdBelow = new Map<string, Set<string>>();

function serialized<T>(root: string, work: () => Promise<T>): Promise<T> {
  const previous = docrootQueues.get(root) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  docrootQueues.set(root, settled);
  void settled.then(() => {
    if (docrootQueues.get(root) === settled) docrootQueues.delete(root);
  });
  return next;
}

/**
 * Writes challenge files below one docroot and nowhere else: every directory on the way is checked to be a
 * real directory inside the docroot (a symlink leading out is refused), and files are created exclusively
 * (O_EXCL never follows a symlink), mode 0644 whatever the umask, directories 0755.
 */
export class Docroot {
  /**
   * Directories any write below this docroot created, whichever instance wrote: the last remove() takes them away
   * once empty (shared per docroot, since each challenge has its own instance).
   */
  private readonly created: Set<string>;

  constructor(readonly root: string, private readonly field: string) {
    let created = createdBelow.get(root);
    if (!created) createdBelow.set(root, (created = new Set()));
    this.created = created;
  }

  /** The docroot exists, is a directory, and can be written; else a CertsmithError naming the config field. */
  async ensureUsable(): Promise<string> {
    let real: string;
    try {
      real = await realpath(this.root);
      const st = await lstat(real);
      if (!st.isDirectory()) throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: ${this.root} is not a directory; set it to the web server's document root`);
      await access(real, constants.W_OK | constants.X_OK);
    } catch (error) {
      if (error instanceof CertsmithError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: the docroot ${this.root} does not exist; set it to the directory the web server serves for these names`);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: the docroot ${this.root} is not writable by this user; run as root or fix its permissions`);
      throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: the docroot ${this.root} is not usable (${code ?? (error as Error).message})`);
    }
    return real;
  }

  /** Creates `urlPath` (e.g. /.well-known/acme-challenge/TOKEN) with `content`. */
  async write(urlPath: string, content: Uint8Array): Promise<DocrootFile> {
    return serialized(this.root, () => this.writeNow(urlPath, content));
  }

  private async writeNow(urlPath: string, content: Uint8Array): Promise<DocrootFile> {
    const real = await this.ensureUsable();
    const parts = urlPath.split('/').filter(Boolean);
    if (parts.length === 0 || parts.some((p) => p === '.' || p === '..' || p.includes('\0') || p.includes('\\'))) {
      throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `refusing to publish "${urlPath}": not a plain path below the docroot`);
    }
    const createdDirs: string[] = [];
    let dir = real;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      try {
        await mkdir(dir, { mode: 0o755 });
        await chmod(dir, 0o755);
        createdDirs.unshift(dir);
        this.created.add(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.writeError(error, dir);
      }
      const st = await lstat(dir);
      if (st.isSymbolicLink()) {
        const target = await realpath(dir).catch(() => '(dangling)');
        if (!inside(real, target)) {
          await this.removeDirs(createdDirs);
          throw new CertsmithError('DCV_HTTP_DOCROOT_SYMLINK', `${this.field}: ${dir} is a symlink to ${target}, outside the docroot ${this.root}; refusing to write there (remove the link or make it point inside the docroot)`);
        }
      } else if (!st.isDirectory()) {
        await this.removeDirs(createdDirs);
        throw new CertsmithError('DCV_HTTP_DOCROOT', `${this.field}: ${dir} exists and is not a directory; remove it so the validation file can be published`);
      }
    }
    const file = join(dir, parts.at(-1)!);
    let handle;
    try {
      handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        // The same name and content is this challenge already (a leftover an issuer tidies by publishing it again):
        // taken over, so that cleanup removes it. Anything else is someone's file and stays untouched.
        const st = await lstat(file);
        if (st.isFile() && Buffer.from(content).equals(await readFile(file))) return { file, urlPath, createdDirs };
        await this.removeDirs(createdDirs);
        throw new CertsmithError('DCV_HTTP_FILE_EXISTS', `${file} already exists with other content${st.isSymbolicLink() ? ' (a symlink)' : ''}; it was not written by this run: remove it and run again`);
      }
      await this.removeDirs(createdDirs);
      throw this.writeError(error, file);
    }
    try {
      await handle.writeFile(content);
      await handle.chmod(0o644);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(file).catch(() => undefined);
      await this.removeDirs(createdDirs);
      throw this.writeError(error, file);
    }
    await handle.close();
    return { file, urlPath, createdDirs };
  }

  /** Removes what write() created; a directory another file still uses stays. */
  async remove(written: DocrootFile): Promise<void> {
    return serialized(this.root, () => this.removeNow(written));
  }

  private async removeNow(written: DocrootFile): Promise<void> {
    await unlink(written.file).catch((error: NodeJS.ErrnoException) => { if (error.code !== 'ENOENT') throw error; });
    for (const dir of [...this.created].sort((a, b) => b.length - a.length)) {
      try {
        await rmdir(dir);
        this.created.delete(dir);
      } catch (error) {
        // ENOTEMPTY: still holds another challenge in flight
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.created.delete(dir);
      }
    }
  }

  private async removeDirs(dirs: string[]): Promise<void> {
    for (const dir of dirs) {
      try {
        await rmdir(dir);
        this.created.delete(dir);
      } catch {
        return; // not empty (another challenge in flight): the outer ones are not empty either
      }
    }
  }

  private writeError(error: unknown, path: string): CertsmithError {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ELOOP' ? 'a symlink is in the way' : code === 'ENOSPC' ? 'no space left' : code ?? (error as Error).message;
    return new CertsmithError('DCV_HTTP_WRITE_FAILED', `${this.field}: cannot write ${path} (${why})`, { cause: error });
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}
