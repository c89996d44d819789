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
    throw new UsageError(
      'EAB_KEY_FILE_MODE',
      `${field}: the EAB HMAC key file ${keyFile} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  const hmacKey = readFileSync(keyFile, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(hmacKey) || Buffer.from(hmacKey, 'base64url').length < 16) {
    throw new UsageError('EAB_KEY_INVALID', `${field}: the EAB HMAC key file ${keyFile} does not hold a base64url key of at least 16 bytes`);
  }
  if (!kid) throw new UsageError('EAB_KID_MISSING', `${field}: an EAB key id is required with the key file`);
  return { kid, hmacKey, keyFile };
}

/** What a CA's refusal of an External Account Binding means for the administrator. */
export type EabRefusal = 'spent' | 'unknown' | 'rejected';

// CAs word these differently: Pebble says "the field 'kid' references a key that is not known to the ACME server";
// step-ca "... references an unknown key" and "... was already bound to account ..."; others "has already been used".
const SPENT =
  /\b(already (been )?(used|bound|associated|consumed|redeemed|in use)|has been (used|consumed|redeemed)|(is|was) (consumed|redeemed)|no longer (valid|usable|available)|spent|single[- ]use)\b/i;
const UNKNOWN = /\b(not known|unknown|not found|does not exist|doesn'?t exist|no such|not recogni[sz]ed|unrecogni[sz]ed|invalid (key )?(id|kid|identifier))\b/i;

/**
 * Sorts a CA's refusal of a newAccount request that carried an EAB: a key the CA has already bound to an account
 * (single-use keys: Sectigo, step-ca, Google), a key id it does not know, or anything else (usually a wrong HMAC key).
 */
export function eabRefusalOf(type: string | undefined, detail: string): EabRefusal {
  if (!['unauthorized', 'malformed', 'externalAccountRequired', 'badPublicKey', 'accountDoesNotExist'].includes(type ?? '')) return 'rejected';
  if (SPENT.test(detail)) return 'spent';
  if (UNKNOWN.test(detail) && /\b(kid|key|id|identifier|binding|eab)\b/i.test(detail)) return 'unknown';
  return 'rejected';
}
