import { isIP } from 'node:net';
import type { AddressPreference, NameVerdict } from '@certsmith/core';
import { urlHost } from './addresses.js';

/** The stable code of a name whose file is served over its A address but not over its AAAA address. */
export const AAAA_UNREACHABLE = 'AAAA_UNREACHABLE';

/** How the file was fetched over one address (with the redirects that followed from it). */
export type AddressOutcome =
  | { ok: true; address: string; reason?: string }
  | {
      ok: false;
      /** null when the name (or a redirect's target) had no usable address. */
      address: string | null;
      code: string;
      reason: string;
      /** A few words for a line that names two addresses: "connection refused", "404", "wrong content". */
      short: string;
      /** Failed before any HTTP answer (refused, connect timeout): Let's Encrypt then retries over IPv4. */
      connection: boolean;
    };

/** The first AAAA and the first A address of a resolution (a CA uses the first of each family, nothing else). */
export function firstOfEachFamily(addresses: string[]): { v6?: string; v4?: string } {
  return { v6: addresses.find((a) => isIP(a) === 6), v4: addresses.find((a) => isIP(a) === 4) };
}

/** The verdict of a name with one address, or whose CA was not asked about families. */
export function verdictOf(name: string, outcome: AddressOutcome): NameVerdict {
  if (outcome.ok) return outcome.reason ? { name, ok: true, reason: outcome.reason } : { name, ok: true };
  return { name, ok: false, code: outcome.code, reason: outcome.reason };
}

/**
 * The verdict for a name with both AAAA and A, as the issuer's CA would reach it:
 * - 'ipv6': the AAAA address decides, whatever failed (Pebble's VA does not retry over IPv4: seen in the lab);
 * - 'ipv6-then-ipv4' (Let's Encrypt, https://letsencrypt.org/docs/ipv6-support/, Boulder's fallbackErr): the AAAA
 *   address, and the A address only when the first IPv6 connection itself failed (refused, timed out), never after
 *   an IPv6 answer (404, wrong content);
 * - 'first' (cPanel's rule): the first address (AAAA, as the resolver lists them) alone decides.
 * A file served over A but not over AAAA is AAAA_UNREACHABLE always: the verdict's code when the name fails,
 * a warning when the CA would still validate it over IPv4.
 */
export function judgeDualStack(name: string, host: string, v6: AddressOutcome, v4: AddressOutcome, preference: AddressPreference): NameVerdict {
  const fallsBack = preference === 'ipv6-then-ipv4' && !v6.ok && v6.connection;
  if (v6.ok) return verdictOf(name, v6);
  if (!v4.ok) {
    // Both fail: say what the CA ends with, and what the other address did.
    const [decisive, other] = fallsBack ? [v4, v6] : [v6, v4];
    return {
      name,
      ok: false,
      code: decisive.code,
      reason: `${decisive.reason} (over ${other.address ? urlHost(other.address) : 'the other address'}: ${other.short})`,
    };
  }
  const finding = `${host}: the file is not served over ${v6.address ? urlHost(v6.address) : 'its AAAA address'} (${v6.short}) but is over ${v4.address}`;
  if (fallsBack) {
    return {
      ...verdictOf(name, v4),
      warnings: [
        {
          code: AAAA_UNREACHABLE,
          message: `${finding}; the CA retries over IPv4 after a failed IPv6 connection, so the name passes: fix the web server's IPv6 listener or the AAAA record`,
        },
      ],
    };
  }
  const why =
    preference === 'ipv6'
      ? 'the CA fetches over IPv6 when the name has an AAAA record'
      : preference === 'ipv6-then-ipv4'
        ? 'the CA fetches over IPv6 first and does not retry over IPv4 after an IPv6 answer'
        : 'the first address decides, and the AAAA address comes first';
  return { name, ok: false, code: AAAA_UNREACHABLE, reason: `${finding}; ${why}: serve the file over IPv6 too (the same docroot) or remove the AAAA record` };
}
