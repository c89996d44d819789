import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  CertsmithError,
  type InstallOptions,
  type InstallReceipt,
  type Installer,
  type LiveProof,
  type NewMaterial,
  type ServiceMaterial,
  type SourceFile,
  type Target,
} from '@certsmith/core';
import { writeFileAtomic, writeFilesAtomic } from '@certsmith/core/atomic-file';
import { materialProblems, readSmallFile, readSmallFileWithMode } from '@certsmith/install';

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** The four files, certbot's names and modes; the key is written first and the full chain last (what servers read). */
const FILES = [
  { name: 'privkey.pem', mode: 0o600, content: (m: NewMaterial) => withNewline(m.keyPem) },
  { name: 'cert.pem', mode: 0o644, content: (m: NewMaterial) => withNewline(m.certificatePem) },
  { name: 'chain.pem', mode: 0o644, content: (m: NewMaterial) => m.chainPem.map(withNewline).join('') },
  { name: 'fullchain.pem', mode: 0o644, content: (m: NewMaterial) => withNewline(m.certificatePem) + m.chainPem.map(withNewline).join('') },
] as const;

interface Handle {
  dir: string;
  /** What each file held before install (null: it did not exist), for rollback. */
  before: { path: string; mode: number; data: Buffer | null }[];
}

/**
 * Installs a target's certificate as certbot-style files under `<root>/<target id>/`: fullchain.pem, privkey.pem (0600),
 * cert.pem and chain.pem. For a target that no web server installer serves, or for software that reads
 * /etc/letsencrypt/live-like paths. No service is reloaded and no endpoint is probed: the proof reads the files back.
 */
export class FilesInstaller implements Installer {
  readonly service = 'files';

  constructor(private readonly root: string) {}

  dirOf(target: Target): string {
    return join(this.root, target.id);
  }

  endpoints(): [] {
    return [];
  }

  async read(target: Target): Promise<ServiceMaterial> {
    const dir = this.dirOf(target);
    const sources = await Promise.all([readSource(join(dir, 'fullchain.pem'), 'certificate'), readSource(join(dir, 'privkey.pem'), 'key')]);
    return { service: this.service, sources, endpoints: [] };
  }

  /** Narrows a target's privkey.pem in place (found open to others); no other file is touched. */
  async restrictMode(path: string, mode: number): Promise<void> {
    if (basename(path) !== 'privkey.pem' || dirname(dirname(resolve(path))) !== resolve(this.root)) {
      throw new CertsmithError('INSTALL_REFUSED', `files: ${path} is not one of its key files`);
    }
    await chmod(path, mode);
  }

  /** For --dry-run: the four files; nothing is reloaded. */
  plan(_material: Pick<NewMaterial, 'selfSigned'>, target: Target): { files: string[]; reload: null } {
    return { files: FILES.map((f) => join(this.dirOf(target), f.name)), reload: null };
  }

  async install(target: Target, material: NewMaterial, opts: InstallOptions): Promise<InstallReceipt> {
    const problems = materialProblems(material, target);
    if (problems.length > 0) {
      throw new CertsmithError('INSTALL_REFUSED', `refused to install for target ${target.id} (files): ${problems.join('; ')}`);
    }
    const dir = this.dirOf(target);
    const paths = this.plan(material, target).files;
    const receipt = (handle: Handle | null): InstallReceipt => ({
      service: this.service,
      target: target.id,
      files: paths,
      reloaded: false,
      fingerprint: material.summary.fingerprint,
      dryRun: opts.dryRun,
      handle,
    });
    if (opts.dryRun) return receipt(null);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle: Handle = { dir, before: [] };
    for (const f of FILES) {
      const path = join(dir, f.name);
      handle.before.push({ path, mode: f.mode, data: await readFile(path).catch(() => null) });
    }
    try {
      opts.signal.throwIfAborted();
      // Each file atomic; the four synced, then renamed, then the directory synced once.
      await writeFilesAtomic(FILES.map((f) => ({ path: join(dir, f.name), data: f.content(material), mode: f.mode })));
    } catch (error) {
      await restore(handle);
      throw new CertsmithError('INSTALL_FAILED', `could not write the certificate files in ${dir}: ${(error as Error).message}`, { cause: error });
    }
    return receipt(handle);
  }

  /** The files hold the new leaf: fullchain.pem's first certificate has the receipt's fingerprint. */
  async prove(receipt: InstallReceipt): Promise<LiveProof> {
    if (receipt.dryRun) return { ok: true, observations: [] };
    const fullchain = receipt.files.find((f) => f.endsWith('fullchain.pem'))!;
    const text = await readFile(fullchain, 'utf8').catch(() => '');
    const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
    const fingerprint = match
      ? createHash('sha256')
          .update(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'))
          .digest('hex')
      : null;
    if (fingerprint === receipt.fingerprint) return { ok: true, observations: [] };
    return { ok: false, observations: [], reason: `${fullchain} does not hold the installed certificate` };
  }

  async rollback(receipt: InstallReceipt): Promise<void> {
    if (receipt.handle) await restore(receipt.handle as Handle);
  }
}

async function readSource(path: string, role: 'certificate' | 'key'): Promise<SourceFile> {
  try {
    if (role === 'key') return { path, role, ...readSmallFileWithMode(path) };
    return { path, role, bytes: await readSmallFile(path) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { path, role, error: code === 'ENOENT' ? 'missing' : 'unreadable', detail: (error as Error).message };
  }
}

async function restore(handle: Handle): Promise<void> {
  for (const file of handle.before) {
    if (file.data) await writeFileAtomic(file.path, file.data, { mode: file.mode });
    else await unlink(file.path).catch(() => undefined);
  }
}
