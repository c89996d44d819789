import type { AcmeCa } from '@certsmith/acme';

/**
 * The CAA identities of well-known public ACME CAs, by their directory's host (each CA's CPS or CAA help page).
 * Unknown directories get none: the run says CAA is not checked for that issuer rather than guess.
 */
const WELL_KNOWN_CAA: [RegExp, string[]][] = [
  [/(^|\.)api\.letsencrypt\.org$/, ['letsencrypt.org']],
  [/(^|\.)api\.pki\.goog$/, ['pki.goog']],
  [/^acme\.zerossl\.com$/, ['sectigo.com']],
  [/^acme\.ssl\.com$/, ['ssl.com']],
];

export function caaIdentitiesOf(directoryUrl: string): string[] {
  let host: string;
  try {
    host = new URL(directoryUrl).hostname.toLowerCase();
  } catch {
    return [];
  }
  return WELL_KNOWN_CAA.find(([pattern]) => pattern.test(host))?.[1] ?? [];
}

/** Any ACME CA: the directory is the config's; what is known of the public CAs is recognised by it. */
export const ANY_ACME_CA: AcmeCa = {
  id: 'acme',
  eabRequired: false,
  issuerPatterns: ["Let's Encrypt", 'ZeroSSL'],
  caaIdentities: caaIdentitiesOf,
  maxWaitSeconds: 60,
  pollMaxMs: 5_000,
  // An ACME CA fetches http-01 over the AAAA address when a name has one. Let's Encrypt retries over IPv4 after a failed
  // IPv6 connection ('ipv6-then-ipv4'), Pebble does not: the default assumes no retry, so no order fails on it.
  addressPreference: 'ipv6',
};
