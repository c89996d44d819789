import { isIP } from 'node:net';

/** Whether a certificate name (possibly a wildcard) covers a host name. A wildcard covers exactly one label. */
export function nameCovers(certName: string, host: string): boolean {
  const c = certName.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (c === h) return true;
  if (!c.startsWith('*.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === c.slice(2);
}

/** A host name a public CA could issue for: LDH labels of 1-63 characters, 253 in all, not an IP, at least two labels. */
export function isValidHostname(name: string): boolean {
  const n = name.replace(/\.$/, '');
  if (n.length === 0 || n.length > 253 || isIP(n)) return false;
  const labels = n.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
}
