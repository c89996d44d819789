import { createRequire } from 'node:module';
import { LDH_LABEL } from '@certsmith/core';

/** Loaded on the first wildcard: the list costs ~30 ms and ~13 MiB, which a run without wildcards need not pay. */
let tldts: typeof import('tldts') | null = null;

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
  if (!base.split('.').every((label) => LDH_LABEL.test(label))) return false;
  if (!wildcard) return c === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === base && !isPublicSuffix(base);
}

/** From the Public Suffix List shipped inside tldts (ICANN and private sections; no network). */
function isPublicSuffix(domain: string): boolean {
  tldts ??= createRequire(import.meta.url)('tldts') as typeof import('tldts');
  return tldts.getPublicSuffix(domain, { allowPrivateDomains: true }) === domain;
}
