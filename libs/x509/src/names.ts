import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';

/** Loaded on the first wildcard: the list costs ~30 ms and ~13 MiB, which a run without wildcards need not pay. */
let tldts: typeof import('tldts') | null = null;

/** A DNS label as certificates may carry it: letters, digits and hyphens (an underscore is not a host name). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Whether a certificate name (possibly a wildcard) covers a host name. A wildcard is the whole leftmost label and
 * covers exactly one label; over a public suffix (`*.com`, `*.co.uk`, `*.s3.amazonaws.com`) it covers nothing, as
 * browsers rule. A name that is not a host name (an underscore, an empty label) covers nothing either.
 */
export function nameCovers(certName: string, host: string): boolean {
  const c = certName.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  const wildcard = c.startsWith('*.');
  const base = wildcard ? c.slice(2) : c;
  if (!base.split('.').every((label) => LABEL.test(label))) return false;
  if (!wildcard) return c === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === base && !isPublicSuffix(base);
}

/** From the Public Suffix List shipped inside tldts (ICANN and private sections; no network). */
function isPublicSuffix(domain: string): boolean {
  tldts ??= createRequire(import.meta.url)('tldts') as typeof import('tldts');
  return tldts.getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
}

/** A host name a public CA could issue for: LDH labels of 1-63 characters, 253 in all, not an IP, at least two labels. */
export function isValidHostname(name: string): boolean {
  const n = name.replace(/\.$/, '');
  // IPv4 only: an IPv6 address has colons, which the label rule refuses, and node's IPv6 pattern costs ~10 ms to
  // compile on its first use in a run.
  if (n.length === 0 || n.length > 253 || isIPv4(n)) return false;
  const labels = n.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
}
