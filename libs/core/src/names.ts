import { domainToASCII } from 'node:url';

/** A name as DNS compares it: lowercase, no trailing dot, IDNs as A-labels. */
export function comparableName(name: string): string {
  const bare = name.trim().toLowerCase().replace(/\.$/, '');
  return domainToASCII(bare) || bare;
}
