// Names as certsmith checks and compares them: the one place for the host-name rule (LDH labels, lengths, a dot, not an
// IPv4 address) and for the form in which names are compared.
import { isIPv4 } from 'node:net';
import { domainToASCII } from 'node:url';

/** A DNS label as certificates may carry it: letters, digits and inner hyphens (no underscore, since 2019), 1-63. */
export const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A name as DNS compares it: lowercase, no trailing dot, IDNs as A-labels. */
export function comparableName(name: string): string {
  const bare = name.trim().toLowerCase().replace(/\.$/, '');
  return domainToASCII(bare) || bare;
}

/** Why a lowercase A-label name is not a host name a public CA issues for, or null when it is one. */
export function hostnameProblem(ascii: string): string | null {
  if (ascii.length > 253) return `the name is ${ascii.length} characters long; DNS allows 253`;
  for (const label of ascii.split('.')) {
    if (label.length === 0) return 'has an empty label (two dots in a row)';
    if (label.length > 63) return `the label "${label.slice(0, 20)}…" is ${label.length} characters long; DNS allows 63`;
    if (!LDH_LABEL.test(label)) return `the label "${label}" may hold only letters, digits and inner hyphens`;
  }
  if (!ascii.includes('.')) return 'not a fully qualified name (a CA validates only names with a dot)';
  return null;
}

/** A host name a public CA could issue for: LDH labels of 1-63 characters, 253 in all, not an IP, at least two labels. */
export function isValidHostname(name: string): boolean {
  const n = name.replace(/\.$/, '').toLowerCase();
  // IPv4 only: an IPv6 address has colons, which the label rule refuses, and node's IPv6 pattern costs ~10 ms to
  // compile on its first use in a run.
  if (n.length === 0 || isIPv4(n)) return false;
  return hostnameProblem(n) === null;
}
