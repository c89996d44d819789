import { open, rename } from 'node:fs/promises';
import { CertsmithError } from '@certsmith/core';
import { writeFileAtomic } from '@certsmith/core/atomic-file';
import { AccountKey, type JwsAlgorithm } from './jws.js';

/**
 * account.json: the ACME account of one issuer (0600). It holds the account key, which after an External Account
 * Binding may be the only way into that account: it is never overwritten by something that could not read it.
 */
export interface AccountFile {
  directoryUrl: string;
  /** null between saving a new key and the CA's answer (a crash there is recovered by a lookup by key). */
  url: string | null;
  algorithm: JwsAlgorithm;
  keyPem: string;
  /**
   * The External Account Binding the account was registered with: the key id and when (never the HMAC key).
   * null = registered without EAB; absent = a file from before this was recorded.
   */
  eab?: { kid: string; boundAt: string } | null;
}

// Far more than any account file; a bigger one is not ours (and is not read into memory whole).
const MAX_BYTES = 64 * 1024;

/** The stored account, or null when there is none. A file that is there but is not an account file throws ACCOUNT_FILE_INVALID. */
export async function readAccountFile(file: string): Promise<{ account: AccountFile; key: AccountKey } | null> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_BYTES) throw invalid(file, `larger than ${MAX_BYTES / 1024} KiB`);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (error instanceof CertsmithError) throw error;
    throw invalid(file, `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(file, 'not JSON');
  }
  const account = data as Partial<AccountFile> | null;
  if (!account || typeof account !== 'object' || Array.isArray(account)) throw invalid(file, 'not a JSON object');
  if (typeof account.directoryUrl !== 'string' || !/^https?:\/\//.test(account.directoryUrl)) throw invalid(file, 'no directoryUrl');
  if (account.url !== null && (typeof account.url !== 'string' || !/^https?:\/\//.test(account.url)))
    throw invalid(file, 'url is neither an account URL nor null');
  if (account.algorithm !== 'ES256' && account.algorithm !== 'RS256') throw invalid(file, 'algorithm is neither ES256 nor RS256');
  if (typeof account.keyPem !== 'string' || !account.keyPem.includes('-----BEGIN PRIVATE KEY-----')) throw invalid(file, 'no PKCS#8 keyPem');
  if (
    account.eab !== undefined &&
    account.eab !== null &&
    (typeof account.eab !== 'object' || typeof account.eab.kid !== 'string' || typeof account.eab.boundAt !== 'string')
  ) {
    throw invalid(file, 'eab is not { kid, boundAt }');
  }
  let key: AccountKey;
  try {
    key = await AccountKey.fromPem(account.keyPem, account.algorithm);
  } catch {
    throw invalid(file, `keyPem is not an ${account.algorithm} private key`);
  }
  return { account: account as AccountFile, key };
}

export async function writeAccountFile(file: string, account: AccountFile): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(account, null, 2), { mode: 0o600 });
}

/** Renames an account file that no longer serves (another directory, an account the CA forgot): kept, 0600, never deleted. */
export async function moveAccountFileAside(file: string, why: string, now: Date): Promise<string> {
  const aside = `${file}.${why}-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
  await rename(file, aside);
  return aside;
}

function invalid(file: string, why: string): CertsmithError {
  return new CertsmithError(
    'ACCOUNT_FILE_INVALID',
    `${file} is not a certsmith account file (${why}): move it aside to register a new account; it is left as it is, as it may hold the only copy of an account key`,
  );
}
