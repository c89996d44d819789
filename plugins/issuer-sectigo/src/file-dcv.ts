import { createHash } from 'node:crypto';
import { CertsmithError, type Challenge } from '@certsmith/core';

/** Sectigo's CA domain for the second line; cPanel still writes the older `comodoca.com`. */
export const DEFAULT_SECTIGO_CA_DOMAIN = 'sectigo.com';

/** What Sectigo fetches for a CSR: both hashes are over the CSR's DER bytes. */
export interface SectigoFile {
  /** MD5 of the DER, uppercase hex: the file name without `.txt`. */
  md5: string;
  /** SHA-256 of the DER, lowercase hex: the first line. */
  sha256: string;
  /** Path below the docroot, with a leading slash. */
  path: string;
  content: string;
}

/** What Sectigo asks for one name of a CSR: the hashes, its CA domain and the order's unique value. */
export interface SectigoRequest {
  name: string;
  md5: string;
  sha256: string;
  caDomain: string;
  unique?: string;
}

/** Sectigo's request for one name of a CSR. */
export function sectigoChallenge(name: string, csrDer: Uint8Array, options: { caDomain?: string; unique?: string } = {}): SectigoRequest {
  const md5 = createHash('md5').update(csrDer).digest('hex').toUpperCase();
  const sha256 = createHash('sha256').update(csrDer).digest('hex');
  const challenge: SectigoRequest = {
    name,
    md5,
    sha256,
    caDomain: options.caDomain ?? DEFAULT_SECTIGO_CA_DOMAIN,
  };
  if (options.unique !== undefined) challenge.unique = options.unique;
  return challenge;
}

/** The http-file challenge that answers Sectigo's request: its file, fetched without redirects. */
export function sectigoHttpFile(request: SectigoRequest): Challenge {
  const file = sectigoFile(request);
  return { kind: 'http-file', name: request.name, path: file.path, body: file.content, redirects: 'none' };
}

/** The file for Sectigo's request; refuses values that would put the file elsewhere or break its lines. */
export function sectigoFile(challenge: SectigoRequest): SectigoFile {
  const md5 = challenge.md5.toUpperCase();
  const sha256 = challenge.sha256.toLowerCase();
  if (!/^[0-9A-F]{32}$/.test(md5))
    throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `Sectigo challenge for ${challenge.name}: the MD5 "${challenge.md5}" is not 32 hex digits`);
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `Sectigo challenge for ${challenge.name}: the SHA-256 is not 64 hex digits`);
  if (!/^[a-z0-9.-]+$/i.test(challenge.caDomain))
    throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `Sectigo challenge for ${challenge.name}: the CA domain "${challenge.caDomain}" is not a domain name`);
  if (challenge.unique !== undefined && !/^[A-Za-z0-9]{1,20}$/.test(challenge.unique)) {
    throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `Sectigo challenge for ${challenge.name}: the unique value must be 1 to 20 letters or digits`);
  }
  const lines = [sha256, challenge.caDomain];
  if (challenge.unique !== undefined) lines.push(challenge.unique);
  return { md5, sha256, path: `/.well-known/pki-validation/${md5}.txt`, content: lines.join('\n') };
}
