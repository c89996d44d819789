import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '@certsmith/core';
import type { Eab } from './client.js';

/**
 * Reads an EAB HMAC key from a file that only its owner can read (0600 or stricter): the key is a credential.
 * The content is base64url and may begin with '-', which is why it never travels as a command-line argument.
 * Errors name the file and field, never the key.
 */
export function readEabKey(kid: string, keyFile: string, field: string): Eab {
  let mode: number;
  try {
    mode = statSync(keyFile).mode;
  } catch (error) {
    throw new UsageError('EAB_KEY_FILE', `${field}: cannot read the EAB HMAC key file ${keyFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError('EAB_KEY_FILE_MODE', `${field}: the EAB HMAC key file ${keyFile} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
  }
  const hmacKey = readFileSync(keyFile, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(hmacKey) || Buffer.from(hmacKey, 'base64url').length < 16) {
    throw new UsageError('EAB_KEY_INVALID', `${field}: the EAB HMAC key file ${keyFile} does not hold a base64url key of at least 16 bytes`);
  }
  if (!kid) throw new UsageError('EAB_KID_MISSING', `${field}: an EAB key id is required with the key file`);
  return { kid, hmacKey };
}
