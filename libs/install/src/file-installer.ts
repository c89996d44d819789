import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  CertsmithError, type Endpoint, type InstallOptions, type InstallReceipt, type Installer, type LiveProof,
  type NewMaterial, type ServiceId, type ServiceMaterial, type SourceFile, type SourceRole, type Target,
} from '@certsmith/core';
import { parsePem } from '@certsmith/x509';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from './atomic-write.js';

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
}

export interface FileInstallerOptions {
  service: ServiceId;
  layout: ServiceLayout;
  endpoints: Endpoint[];
  /** argv that makes the service load the new files; null when nothing has to be told. */
  reload: string[] | null;
  reloadTimeoutMs: number;
  /** Where backups of replaced files are kept (0700, files 0600). */
  backupDir: string;
  /** Handshakes with the endpoints and returns the leaf fingerprints seen; absent when there is no live check. */
  observe?: (endpoints: Endpoint[], signal: AbortSignal) => Promise<LiveProof['observations']>;
}

interface Backup {
  path: string;
  /** null when the file did not exist before the install. */
  copy: string | null;
}

interface Handle {
  backups: Backup[];
}

/**
 * Installs a certificate as files in a service's layout: checks first, backs up, writes each file atomically,
 * reloads, and proves the result by reading it back (and live, when the service has endpoints).
 */
export class FileInstaller implements Installer {
  readonly service: ServiceId;

  constructor(private readonly options: FileInstallerOptions) {
    this.service = options.service;
  }

  endpoints(): Endpoint[] {
    return this.options.endpoints;
  }

  async read(): Promise<ServiceMaterial> {
    const { caSigned, selfSigned } = this.options.layout;
    const useCa = caSigned.length > 0 && (await exists(caSigned[0]!.path));
    const files = useCa ? caSigned : selfSigned;
    const sources: SourceFile[] = [];
    for (const file of files) sources.push(await readSource(file));
    return { service: this.service, sources, endpoints: this.options.endpoints };
  }

  async install(target: Target, material: NewMaterial, opts: InstallOptions): Promise<InstallReceipt> {
    const { layout } = this.options;
    const files = material.selfSigned ? layout.selfSigned : layout.caSigned;
    // A self-signed install must also move the CA-signed files aside, or they would keep precedence.
    const displaced = material.selfSigned ? layout.caSigned.filter((f) => !files.some((g) => g.path === f.path)) : [];
    const receipt: InstallReceipt = {
      service: this.service, target: target.id, files: files.map((f) => f.path), reloaded: this.options.reload !== null,
      fingerprint: material.summary.fingerprint, dryRun: opts.dryRun, handle: { backups: [] } satisfies Handle,
    };
    if (opts.dryRun) return receipt;

    for (const dir of new Set(files.map((f) => dirname(f.path)))) await ensureDirectory(dir, this.service);
    const handle = receipt.handle as Handle;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const backupDir = join(this.options.backupDir, this.service, stamp);
    await mkdir(backupDir, { recursive: true, mode: 0o700 });
    for (const file of [...files, ...displaced]) handle.backups.push(await backup(file.path, backupDir));

    try {
      // The key first: a service that reloads between two files then fails the key check instead of
      // serving a certificate whose key it does not have.
      const ordered = [...files].sort((a, b) => (a.content === 'key' ? -1 : b.content === 'key' ? 1 : 0));
      for (const file of ordered) await writeFileAtomic(file.path, render(file.content, material), { mode: file.mode, uid: file.uid, gid: file.gid });
      for (const file of displaced) await unlink(file.path).catch(ignoreMissing);
      await this.reload(opts.signal);
    } catch (error) {
      await this.restore(handle).catch(() => undefined);
      if (error instanceof CertsmithError) throw error;
      throw new CertsmithError('INSTALL_WRITE_FAILED', `${this.service}: could not write the new certificate (${(error as Error).message}); the previous files were restored`, { cause: error });
    }
    return receipt;
  }

  async prove(receipt: InstallReceipt, signal: AbortSignal): Promise<LiveProof> {
    if (receipt.dryRun) return { ok: true, observations: [] };
    const material = await this.read();
    const leaf = material.sources.flatMap((s) => ('bytes' in s ? parsePem(Buffer.from(s.bytes).toString('latin1')) : []))
      .find((b) => b.label === 'CERTIFICATE');
    const onDisk = leaf ? createHash('sha256').update(leaf.der).digest('hex') : null;
    if (onDisk !== receipt.fingerprint) return { ok: false, observations: [], reason: 'the files do not hold the new certificate' };
    if (!this.options.observe || this.options.endpoints.length === 0) return { ok: true, observations: [] };
    const observations = await this.options.observe(this.options.endpoints, signal);
    const stale = observations.filter((o) => !o.ok || o.fingerprint !== receipt.fingerprint);
    if (stale.length) return { ok: false, observations, reason: stale.map((o) => `${o.endpoint}: ${o.error ?? 'serves another certificate'}`).join('; ') };
    return { ok: true, observations };
  }

  async rollback(receipt: InstallReceipt): Promise<void> {
    await this.restore(receipt.handle as Handle);
    await this.reload(AbortSignal.timeout(this.options.reloadTimeoutMs));
  }

  private async restore(handle: Handle): Promise<void> {
    for (const { path, copy } of handle.backups) {
      if (copy === null) await unlink(path).catch(ignoreMissing);
      else {
        const st = await stat(copy);
        await writeFileAtomic(path, await readFile(copy), { mode: st.mode & 0o777 });
      }
    }
  }

  private async reload(signal: AbortSignal): Promise<void> {
    const argv = this.options.reload;
    if (!argv) return;
    await new Promise<void>((resolve, reject) => {
      execFile(argv[0]!, argv.slice(1), { timeout: this.options.reloadTimeoutMs, signal }, (error, _stdout, stderr) => {
        if (!error) return resolve();
        const why = error.killed ? `did not finish within ${this.options.reloadTimeoutMs} ms` : (stderr.trim().split('\n').pop() || error.message);
        reject(new CertsmithError('RELOAD_FAILED', `${this.service}: reload command "${argv.join(' ')}" failed: ${why}`));
      });
    });
  }
}

function render(content: FileContent, m: NewMaterial): string {
  const cert = ensureNewline(m.certificatePem);
  const chain = m.chainPem.map(ensureNewline).join('');
  const key = ensureNewline(m.keyPem);
  switch (content) {
    case 'key+cert+chain': return key + cert + chain;
    case 'key+cert': return key + cert;
    case 'cert+chain': return cert + chain;
    case 'cert': return cert;
    case 'key': return key;
    case 'chain': return chain;
  }
}

function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

async function readSource(file: LayoutFile): Promise<SourceFile> {
  try {
    return { path: file.path, role: file.role, bytes: await readFile(file.path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path: file.path, role: file.role, error: 'missing', detail: 'no such file' };
    return { path: file.path, role: file.role, error: 'unreadable', detail: code ?? (error as Error).message };
  }
}

async function backup(path: string, dir: string): Promise<Backup> {
  if (!(await exists(path))) return { path, copy: null };
  const copy = join(dir, path.replace(/\//g, '_'));
  await copyFile(path, copy);
  return { path, copy };
}

async function ensureDirectory(dir: string, service: string): Promise<void> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new CertsmithError('INSTALL_DIR_INVALID', `${service}: ${dir} is not a directory`);
  } catch (error) {
    if (error instanceof CertsmithError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CertsmithError('INSTALL_DIR_INVALID', `${service}: ${dir}: ${(error as Error).message}`);
    await mkdir(dir, { recursive: true, mode: 0o755 });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
