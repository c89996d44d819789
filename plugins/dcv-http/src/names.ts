import { domainToASCII } from 'node:url';
import { CertsmithError } from '@certsmith/core';

/**
 * The form of a name that DNS and the Host header carry: lowercase A-labels, no trailing dot.
 * HTTP DCV validates one host, so wildcards are refused here (a CA validates them over DNS only).
 * Throws a CertsmithError naming the name and what is wrong with it.
 */
export function hostForHttpDcv(name: string): string {
  const trimmed = name.trim();
  if (trimmed.startsWith('*.') || trimmed.includes('*')) {
    throw new CertsmithError(
      'DCV_HTTP_WILDCARD',
      `"${name}": a wildcard name cannot be validated over HTTP; use DNS validation (profile "dnsonly" or a DNS DCV plugin) or list the host names instead`,
    );
  }
  const bare = trimmed.replace(/\.$/, '');
  if (bare.length === 0) throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": an empty name cannot be validated`);
  const ascii = domainToASCII(bare.toLowerCase());
  if (!ascii) throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": not a valid domain name (it cannot be converted to A-labels)`);
  if (ascii.length > 253) throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": the name is ${ascii.length} characters long; DNS allows 253`);
  for (const label of ascii.split('.')) {
    if (label.length === 0) throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": has an empty label (two dots in a row)`);
    if (label.length > 63)
      throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": the label "${label.slice(0, 20)}…" is ${label.length} characters long; DNS allows 63`);
    // No underscores: CAs may not put them in a certificate's names (CA/Browser Forum, since 2019).
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label)) {
      throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": the label "${label}" may hold only letters, digits and inner hyphens`);
    }
  }
  if (!ascii.includes('.')) throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": not a fully qualified name (a CA validates only names with a dot)`);
  return ascii;
}
