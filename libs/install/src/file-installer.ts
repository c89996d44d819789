import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readlink, realpath, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  CertsmithError,
  NO_FAULTS,
  type Bus,
  type Endpoint,
  type FaultPoints,
  type InstallOptions,
  type InstallReceipt,
  type Installer,
  type LiveObservation,
  type LiveProof,
  type NewMaterial,
  type ServiceId,
  type ServiceMaterial,
  type SourceFile,
  type SourceRole,
  type Target,
} from '@certsmith/core';
import { parsePem } from '@certsmith/x509';
import { materialProblems } from './checks.js';
import { GenerationStore, type StagedEntry } from './generation-store.js';
import { InstallJournal } from './journal.js';
import { readFile as readSmallFile, readSmallFileWithMode } from './read-file.js';
import { runReload } from './reload.js';

/** What goes into one file, in the order the service expects. */
export type FileContent = 'key+cert+chain' | 'key+cert' | 'cert+chain' | 'cert' | 'key' | 'chain';

export interface LayoutFile {
  path: string;
  role: SourceRole;
  content: FileContent;
  mode: number;
  uid?: number;
  gid?: number;
}

/** A service's files: the CA-signed set takes precedence over the self-signed set when it exists (cPanel). */
export interface ServiceLayout {
  caSigned: LayoutFile[];
  selfSigned: LayoutFile[];
  /** Paths outside the set that always get the installed certificate too (cPanel's /etc/exim.crt, /etc/exim.key). */
  links?: LayoutFile[];
  /** Where the `<svc>-CN`, `-DOMAINS` and `-NOT_AFTER` files are kept; none when absent. */
  metadataDir?: string;
}

/**
 * The steps of an install, in order, each a fault point (`<service>:<step>`) once done. A first install also
 * takes over the files that are there: `adopt-generation` (copied into a generation), then `adopt:<file name>`
 * as each becomes a link.
 */
export const INSTALL_STEPS = ['journal', 'staging', 'staged', 'linked', 'switched', 'reloaded', 'proved'] as const;

export interface FileInstallerOptions {
  service: ServiceId;
  layout: ServiceLayout;
  endpoints: Endpoint[];
  /** argv that makes the service load the new files; null when nothing has to be told. */
  reload: string[] | null;
  /** Where that command comes from, for `certsmith plugins --verbose` (the config, a distribution's default...). */
  reloadWhy?: string;
  reloadTimeoutMs: number;
  /** Where the install journal is kept (the run's state directory). */
  stateDir: string;
  /** How long the live proof may wait for the new certificate to be served. */
  proofTimeoutMs?: number;
  /** Handshakes with the endpoints and returns the leaf fingerprints seen; absent when there is no live check. */
  observe?: (endpoints: Endpoint[], signal: AbortSignal) => Promise<LiveObservation[]>;
  /** More files that must get the new certificate, found at install time from what is there now (web vhosts). */
  followers?: (current: ServiceMaterial) => Promise<LayoutFile[]>;
  /** Where a crash recovery is reported. */
  bus?: Bus;
  /** Told `<service>:<step>` after each step; default NO_FAULTS. */
  faults?: FaultPoints;
}

interface Handle {
  previous: string;
  next: string;
  /** The leaf the service had before, to prove a rollback. */
  previousFingerprint: string | null;
  endpoints: Endpoint[];
  /** Every service path the generations hold. */
  managed: string[];
  /** Whether this install created the service directory (a first install), so that undoing it removes it again. */
  madeDir?: boolean;
}

/**
 * Installs a certificate as files in a service's layout. Checks the material first; keeps the files as
 * generations behind one `current` link so that the pair changes in one rename; journals each step so that
 * a run killed half-way is undone by the next; reloads (bounded); proves the result on disk and live.
 */
export class FileInstaller implements Installer {
  readonly service: ServiceId;
  private readonly store: GenerationStore;
  private readonly journal: InstallJournal;
  private readonly serviceDir: string;

  constructor(private readonly options: FileInstallerOptions) {
    this.service = options.service;
    const first = options.layout.caSigned[0] ?? options.layout.selfSigned[0];
    if (!first) throw new CertsmithError('INSTALL_LAYOUT_EMPTY', `${options.service}: the layout names no file`);
    this.serviceDir = dirname(first.path);
    this.store = new GenerationStore(join(this.serviceDir, '.certsmith'), this.serviceDir);
    this.journal = new InstallJournal(options.stateDir, options.service);
  }

  /** The reload an install runs and why that one (the Installer contract's reloadChoice). */
  get reloadChoice(): { command: string[] | null; why: string } {
    return { command: this.options.reload, why: this.options.reloadWhy ?? (this.options.reload ? 'given' : 'none given') };
  }

  endpoints(target?: Target): Endpoint[] {
    return this.options.endpoints.map((e) => ({ ...e, servername: e.servername ?? target?.names[0] }));
  }

  async read(target?: Target): Promise<ServiceMaterial> {
    const targetId = target?.id ?? 'hostname';
    if (await this.holdsRunLock(targetId)) await this.recover(targetId);
    else if (await this.journal.read()) return { ...(await this.readFiles(target)), interrupted: true };
    return this.readFiles(target);
  }

  private async readFiles(target?: Target): Promise<ServiceMaterial> {
    const { caSigned, selfSigned } = this.options.layout;
    const useCa = caSigned.length > 0 && (await exists(caSigned[0]!.path));
    const files = useCa ? caSigned : selfSigned;
    const sources: SourceFile[] = [];
    for (const file of files) sources.push(await readSource(file));
    return { service: this.service, sources, endpoints: this.endpoints(target) };
  }

  /**
   * Narrows a key file's permission bits in place (a key readable by its group or the world): no new certificate is
   * needed, and the owner, who is the service, still reads it. Only a file of this service's layout is touched.
   */
  async restrictMode(path: string, mode: number): Promise<void> {
    const { caSigned, selfSigned } = this.options.layout;
    if (![...caSigned, ...selfSigned].some((f) => f.path === path && (f.role === 'key' || f.role === 'combined'))) {
      throw new CertsmithError('INSTALL_REFUSED', `${this.service}: ${path} is not one of its key files`);
    }
    await chmod(path, mode).catch((error: unknown) => {
      throw new CertsmithError(writeErrorCode(error), `${this.service}: could not narrow the permissions of ${path}: ${describeFsError(error)}`);
    });
  }

  /** The argv of the reload command and the files an install would write, for --dry-run and the receipt. */
  plan(material: Pick<NewMaterial, 'selfSigned'>): { files: string[]; reload: string[] | null } {
    const files = material.selfSigned ? this.options.layout.selfSigned : this.options.layout.caSigned;
    return { files: [...files, ...(this.options.layout.links ?? [])].map((f) => f.path), reload: this.options.reload };
  }

  async install(target: Target, material: NewMaterial, opts: InstallOptions): Promise<InstallReceipt> {
    const problems = materialProblems(material, target);
    if (problems.length) {
      throw new CertsmithError('INSTALL_REFUSED', `${this.service}: refused before writing anything: ${problems.join('; ')}`);
    }
    const { layout } = this.options;
    const files = material.selfSigned ? layout.selfSigned : layout.caSigned;
    const receiptBase = {
      service: this.service,
      target: target.id,
      reloaded: this.options.reload !== null,
      fingerprint: material.summary.fingerprint,
      dryRun: opts.dryRun,
    };
    if (opts.dryRun) return { ...receiptBase, files: this.plan(material).files, handle: null };

    await this.recover(target.id);
    const before = await this.readFiles(target);
    const followers = this.options.followers ? await this.options.followers(before) : [];
    const written: LayoutFile[] = dedupe([...files, ...(layout.links ?? []), ...followers]);
    const meta = this.metadataEntries(material);
    const managed = dedupe([...layout.caSigned, ...layout.selfSigned, ...(layout.links ?? []), ...followers])
      .map((f) => f.path)
      .concat(meta.map((m) => m.path));
    await this.checkPaths(managed);

    let handle: Handle | null = null;
    try {
      // 1. Every service path becomes our link into the current generation (once; content unchanged).
      const madeDir = await this.adopt(managed);
      const previous = (await this.store.currentGeneration())!;
      const next = this.store.newGenerationName();
      handle = { previous, next, previousFingerprint: leafFingerprint(before), endpoints: this.endpoints(target), managed, madeDir };
      const journal = { service: this.service, store: this.store.dir, previous, next, managed, startedAt: new Date().toISOString() };
      await this.journal.write({ ...journal, step: 'journal' });
      this.step('journal');

      // 2. The new generation: what the service had (a self-signed install displaces the CA-signed files, which
      //    would otherwise keep precedence), with the new files in place of the old.
      const replaced = new Set([...written.map((f) => f.path), ...meta.map((m) => m.path)]);
      const displaced = new Set(material.selfSigned ? layout.caSigned.map((f) => f.path) : []);
      const dropped = new Set([...replaced, ...displaced].map((p) => this.store.entryName(p)));
      const carry = (await this.store.entries(previous)).filter((e) => !dropped.has(e));
      const entries: StagedEntry[] = [
        ...written.map((f) => ({ path: f.path, data: render(f.content, material), mode: f.mode, uid: f.uid, gid: f.gid })),
        ...meta,
      ];
      await this.store.stage(next, previous, carry, entries, () => this.step('staging'));
      await this.journal.write({ ...journal, step: 'staged' });
      this.step('staged');
      await this.linkEntriesOf(next, managed);
      this.step('linked');
      // 3. The switch: one rename, after which every path shows the new files.
      await this.store.switchTo(next);
      await this.journal.write({ ...journal, step: 'switched' });
      this.step('switched');
      await this.reload(opts.signal);
      this.step('reloaded');
    } catch (error) {
      const undo = handle
        ? await this.undo(handle).then(
            (reloadError) => `the previous files are back in place${reloadError ? `, but reloading them failed too (${reloadError.message})` : ''}`,
            (e: Error) => `and putting the previous files back failed too: ${e.message}`,
          )
        : 'nothing was changed';
      throw new CertsmithError(
        error instanceof CertsmithError ? error.code : writeErrorCode(error),
        `${error instanceof CertsmithError ? error.message : `${this.service}: could not write the new certificate: ${describeFsError(error)}`}; ${undo}`,
        { cause: error },
      );
    }
    return { ...receiptBase, files: written.map((f) => f.path), handle: handle! };
  }

  async prove(receipt: InstallReceipt, signal: AbortSignal): Promise<LiveProof> {
    if (receipt.dryRun) return { ok: true, observations: [] };
    const handle = receipt.handle as Handle;
    if ((await this.store.currentGeneration()) !== handle.next) return { ok: false, observations: [], reason: 'the files no longer hold the new generation' };
    const onDisk = leafFingerprint(await this.readFiles());
    if (onDisk !== receipt.fingerprint) return { ok: false, observations: [], reason: 'the files do not hold the new certificate' };
    const live = await this.waitForLive(handle.endpoints, receipt.fingerprint, signal);
    if (!live.ok) return live;
    this.step('proved');
    await this.journal.clear();
    await this.unlinkDangling(handle.managed);
    await this.store.prune([handle.next, handle.previous]);
    return live;
  }

  async rollback(receipt: InstallReceipt): Promise<void> {
    if (receipt.dryRun) return;
    const handle = receipt.handle as Handle;
    const reloadError = await this.undo(handle);
    if (reloadError) throw new CertsmithError('ROLLBACK_RELOAD_FAILED', `the previous files are back, but reloading them failed: ${reloadError.message}`);
    if (!handle.previousFingerprint) return;
    const signal = AbortSignal.timeout(this.options.proofTimeoutMs ?? 15_000);
    const back = await this.waitForLive(handle.endpoints, handle.previousFingerprint, signal);
    if (!back.ok)
      throw new CertsmithError('ROLLBACK_NOT_LIVE', `${this.service}: the previous files are back but the previous certificate is not served (${back.reason})`);
  }

  /**
   * Puts the previous generation back (if the switch happened), reloads, forgets the new one. Throws only when the
   * files could not be put back; a failed reload after that is returned, for the caller's message.
   */
  private async undo(handle: Handle): Promise<Error | null> {
    const current = await this.store.currentGeneration();
    let reloadError: Error | null = null;
    if (current === handle.next) {
      await this.linkEntriesOf(handle.previous, handle.managed);
      await this.store.switchTo(handle.previous);
      // Paths the previous generation lacks (every one of them, after a first install) would be left dangling.
      await this.unlinkDangling(handle.managed);
      await this.reload(AbortSignal.timeout(this.options.reloadTimeoutMs + 1_000)).catch((e: Error) => {
        reloadError = e;
      });
    }
    await this.store.remove(handle.next);
    // An undone first install leaves nothing of certsmith's behind: no empty store, no service directory it made.
    if ((await this.store.entries(handle.previous)).length === 0) {
      await rm(this.store.dir, { recursive: true, force: true });
      if (handle.madeDir) await rmdir(this.serviceDir).catch(() => undefined);
    }
    await this.journal.clear();
    return reloadError;
  }

  /** Finishes what a killed run left: switches back to the generation before the interrupted install. */
  private async recover(targetId: string): Promise<void> {
    const entry = await this.journal.read();
    if (!entry) return;
    const handle: Handle = { previous: entry.previous, next: entry.next, previousFingerprint: null, endpoints: [], managed: entry.managed };
    let outcome = 'the previous certificate was put back';
    await this.undo(handle).then(
      (reloadError) => {
        if (reloadError) outcome += `, but reloading the service failed (${reloadError.message})`;
      },
      (error: Error) => {
        outcome = `putting the previous certificate back failed: ${error.message}`;
      },
    );
    this.options.bus?.emit('failed', {
      stage: 'install',
      target: targetId,
      service: this.service,
      code: 'INSTALL_INTERRUPTED',
      message: `an install begun at ${entry.startedAt} was interrupted after step "${entry.step}"; ${outcome}`,
      next: 'inspect again and install anew',
      severity: 'warning',
    });
  }

  /** Handshakes until every endpoint shows `fingerprint` or the proof time is up; the last complete look is the answer. */
  private async waitForLive(endpoints: Endpoint[], fingerprint: string, signal: AbortSignal): Promise<LiveProof> {
    const observe = this.options.observe;
    if (!observe || endpoints.length === 0) return { ok: true, observations: [] };
    const until = Date.now() + (this.options.proofTimeoutMs ?? 15_000);
    for (;;) {
      const seen = (await observe(endpoints, signal)).map((o) => ({ endpoint: o.endpoint, ok: o.ok, fingerprint: o.fingerprint, error: o.error }));
      const stale = seen.filter((o) => !o.ok || o.fingerprint !== fingerprint);
      if (stale.length === 0) return { ok: true, observations: seen };
      if (signal.aborted || Date.now() >= until) {
        return { ok: false, observations: seen, reason: stale.map((o) => `${o.endpoint}: ${o.error ?? 'serves another certificate'}`).join('; ') };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Refuses paths certsmith must not write through: a symlinked directory, a link it did not make, a non-file. */
  private async checkPaths(paths: string[]): Promise<void> {
    for (const dir of new Set(paths.map((p) => dirname(p)))) {
      const st = await lstat(dir).catch((error: NodeJS.ErrnoException) => error);
      if (st instanceof Error) {
        if (st.code === 'ENOENT' && dir === this.serviceDir && (await exists(dirname(dir)))) continue; // made by adopt()
        throw new CertsmithError(
          'INSTALL_DIR_INVALID',
          `${this.service}: the directory ${dir} ${st.code === 'ENOENT' ? 'does not exist' : `cannot be read (${st.code})`}; create it or fix the path in services.${this.service}`,
        );
      }
      if (st.isSymbolicLink()) {
        const to = await realpath(dir).catch(() => 'nowhere');
        throw new CertsmithError(
          'INSTALL_DIR_INVALID',
          `${this.service}: the directory ${dir} is a symlink to ${to}; certsmith writes only into real directories (point services.${this.service} at the real path)`,
        );
      }
      if (!st.isDirectory()) throw new CertsmithError('INSTALL_DIR_INVALID', `${this.service}: ${dir} is not a directory`);
    }
    for (const path of paths) {
      const st = await lstat(path).catch(() => null);
      if (!st || st.isFile()) continue;
      if (st.isSymbolicLink()) {
        if (await this.store.isOurLink(path)) continue;
        const to = await readlink(path).catch(() => '?');
        throw new CertsmithError(
          'INSTALL_UNEXPECTED_SYMLINK',
          `${this.service}: ${path} is a symlink to ${to}, which certsmith did not make; move it aside or point the config at the real file`,
        );
      }
      throw new CertsmithError('INSTALL_PATH_INVALID', `${this.service}: ${path} is not a regular file`);
    }
  }

  /**
   * Makes every existing file among `paths` our link into `current`, after copying it into a generation
   * (content, mode and owner unchanged), so that later switches move it with the rest.
   */
  private async adopt(paths: string[]): Promise<boolean> {
    const madeDir = (await mkdir(this.serviceDir, { recursive: true, mode: 0o755 }).catch(rethrowAs(this.service))) !== undefined;
    const current = await this.store.currentGeneration();
    const pending: string[] = [];
    for (const path of paths) {
      const st = await lstat(path).catch(() => null);
      if (st?.isFile()) pending.push(path);
    }
    if (current && pending.length === 0) return madeDir;

    const copies: StagedEntry[] = [];
    for (const path of pending) {
      const st = await stat(path);
      copies.push({ path, data: await readFile(path), mode: st.mode & 0o777, uid: st.uid, gid: st.gid });
    }
    // The generation that takes over the files as they are: current's entries plus copies of what is not ours yet.
    const name = this.store.newGenerationName();
    const names = new Set(copies.map((c) => this.store.entryName(c.path)));
    const carry = current ? (await this.store.entries(current)).filter((e) => !names.has(e)) : [];
    await this.store.stage(name, current, carry, copies).catch(async (error: unknown) => {
      await this.store.remove(name);
      throw error;
    });
    await this.store.switchTo(name);
    if (current) await this.store.remove(current);
    this.step('adopt-generation');
    for (const path of pending) {
      await this.store.link(path);
      this.step(`adopt:${basename(path)}`);
    }
    return madeDir;
  }

  /** Links every path that has an entry in `generation` (links to entries not yet current dangle, i.e. read as missing). */
  private async linkEntriesOf(generation: string, paths: string[]): Promise<void> {
    const entries = new Set(await this.store.entries(generation));
    for (const path of paths) {
      if (entries.has(this.store.entryName(path)) && !(await this.store.isOurLink(path))) await this.store.link(path);
    }
  }

  /** Removes our links whose entry the current generation lacks (displaced files), once nothing can switch back. */
  private async unlinkDangling(paths: string[]): Promise<void> {
    const current = await this.store.currentGeneration();
    if (!current) return;
    const entries = new Set(await this.store.entries(current));
    for (const path of paths) {
      if (!entries.has(this.store.entryName(path)) && (await this.store.isOurLink(path))) await unlink(path).catch(() => undefined);
    }
  }

  private metadataPaths(): string[] {
    const dir = this.options.layout.metadataDir;
    return dir ? ['CN', 'DOMAINS', 'NOT_AFTER'].map((k) => join(dir, `${this.service}-${k}`)) : [];
  }

  private metadataEntries(material: NewMaterial): StagedEntry[] {
    const [cn, domains, notAfter] = this.metadataPaths();
    if (!cn) return [];
    const s = material.summary;
    return [
      { path: cn, data: `${s.commonName ?? s.names[0] ?? ''}\n`, mode: 0o644 },
      { path: domains!, data: `${s.names.join('\n')}\n`, mode: 0o644 },
      { path: notAfter!, data: `${Math.floor(new Date(s.notAfter).getTime() / 1000)}\n`, mode: 0o644 },
    ];
  }

  private async reload(signal: AbortSignal): Promise<void> {
    const argv = this.options.reload;
    if (argv) await runReload(argv, this.options.reloadTimeoutMs, signal, this.service);
  }

  private step(name: string): void {
    (this.options.faults ?? NO_FAULTS).reached(`${this.service}:${name}`);
  }

  /**
   * Recovery writes; it runs only when this process holds the target's lock (a dry run holds none). The run lock is
   * not enough: the scheduled run reads without the target's lock, while a `check --target` may be installing.
   */
  private async holdsRunLock(targetId: string): Promise<boolean> {
    const holder = await readFile(join(this.options.stateDir, 'locks', `${targetId}.lock`), 'utf8').catch(() => '');
    return Number.parseInt(holder, 10) === process.pid;
  }
}

function render(content: FileContent, m: NewMaterial): string {
  const cert = ensureNewline(m.certificatePem);
  const chain = m.chainPem.map(ensureNewline).join('');
  const key = ensureNewline(m.keyPem);
  switch (content) {
    case 'key+cert+chain':
      return key + cert + chain;
    case 'key+cert':
      return key + cert;
    case 'cert+chain':
      return cert + chain;
    case 'cert':
      return cert;
    case 'key':
      return key;
    case 'chain':
      return chain;
  }
}

function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

function leafFingerprint(material: ServiceMaterial): string | null {
  const leaf = material.sources.flatMap((s) => ('bytes' in s ? parsePem(Buffer.from(s.bytes).toString('latin1')) : [])).find((b) => b.label === 'CERTIFICATE');
  return leaf ? createHash('sha256').update(leaf.der).digest('hex') : null;
}

async function readSource(file: LayoutFile): Promise<SourceFile> {
  try {
    if (file.role === 'key' || file.role === 'combined') {
      const { bytes, mode } = readSmallFileWithMode(file.path);
      return { path: file.path, role: file.role, bytes, mode };
    }
    return { path: file.path, role: file.role, bytes: await readSmallFile(file.path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path: file.path, role: file.role, error: 'missing', detail: 'no such file' };
    return { path: file.path, role: file.role, error: 'unreadable', detail: code ?? (error as Error).message };
  }
}

function dedupe(files: LayoutFile[]): LayoutFile[] {
  const seen = new Set<string>();
  return files.filter((f) => !seen.has(f.path) && seen.add(f.path));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function writeErrorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'INSTALL_DISK_FULL';
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'INSTALL_READ_ONLY';
  return 'INSTALL_WRITE_FAILED';
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const why =
    e.code === 'ENOSPC'
      ? 'no space left on the device'
      : e.code === 'EROFS'
        ? 'the file system is read-only'
        : e.code === 'EACCES' || e.code === 'EPERM'
          ? 'permission denied'
          : (e.code ?? e.message);
  return `${why}${e.path ? ` (${e.path})` : ''}`;
}

function rethrowAs(service: string): (error: unknown) => never {
  return (error) => {
    throw new CertsmithError(writeErrorCode(error), `${service}: could not create the service directory: ${describeFsError(error)}`);
  };
}
