import { domainToASCII } from 'node:url';
import { CertsmithError, hostnameProblem } from '@certsmith/core';

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
  const problem = hostnameProblem(ascii);
  if (problem) throw new CertsmithError('DCV_HTTP_BAD_NAME', `"${name}": ${problem}`);
  return ascii;
}
