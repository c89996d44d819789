import { isIP } from 'node:net';
import type { NameVerdict } from '@certsmith/core';
import { AAAA_UNREACHABLE, verdictOf, type AddressOutcome } from './address-preference.js';

/** The stable code of a name whose file is served over some of its addresses and not over others. */
export const DCV_HTTP_ADDRESS_DISAGREES = 'DCV_HTTP_ADDRESS_DISAGREES';

/** How the file was fetched starting at one address of the name (a redirect may end at another). */
export interface AddressProof {
  address: string;
  outcome: AddressOutcome;
}

const SERVED = 'served the file';

type Failed = AddressProof & { outcome: Extract<AddressOutcome, { ok: false }> };

const isFailed = (proof: AddressProof): proof is Failed => !proof.outcome.ok;

/** "127.0.0.9 (A)", "::1 (AAAA)". */
function labelOf(address: string): string {
  return `${address} (${isIP(address) === 6 ? 'AAAA' : 'A'})`;
}

/** What one address did instead of serving the file, as a line names it. */
function failureOf({ address, outcome }: Failed): string {
  const short = outcome.short;
  const did =
    short === 'connection refused'
      ? 'refused the connection'
      : short === 'connection timed out'
        ? 'did not accept the connection in time'
        : short === 'timeout'
          ? 'did not answer in time'
          : /^(404|HTTP \d+|wrong content)$/.test(short)
            ? `answered ${short}`
            : `failed (${short})`;
  return `${labelOf(address)} ${did}`;
}

/**
 * "www.a.test: 127.0.0.9 (A) answered 404 while 127.0.0.8 (A) served the file"; null unless some served and some
 * failed. `did`: what a passing address did ('answered' for a dry run, which publishes no file).
 */
export function addressDisagreement(host: string, failing: AddressProof[], served: AddressProof[], did = SERVED): string | null {
  const failed = failing.filter(isFailed);
  const ok = served.filter((p) => p.outcome.ok);
  if (failed.length === 0 || ok.length === 0) return null;
  return `${host}: ${failed.map(failureOf).join(', ')} while ${ok.map((p) => labelOf(p.address)).join(', ')} ${did}`;
}

/**
 * The verdict under 'every' (a CA that corroborates from several perspectives may fetch from any address): each
 * address must serve the file. When some do and some do not, the name fails with the addresses named; when every
 * IPv4 address serves and only IPv6 ones fail, that is AAAA_UNREACHABLE.
 */
export function judgeEveryAddress(name: string, host: string, proofs: AddressProof[], did = SERVED): NameVerdict {
  const failed = proofs.filter(isFailed);
  const first = failed[0];
  if (!first) return verdictOf(name, proofs[0]!.outcome);
  const finding = addressDisagreement(host, failed, proofs, did);
  if (!finding) {
    // None served: the first address's failure, and what the others did.
    const others = failed.slice(1).map(failureOf);
    return { name, ok: false, code: first.outcome.code, reason: others.length ? `${first.outcome.reason} (${others.join(', ')})` : first.outcome.reason };
  }
  const onlyV6 = failed.every((p) => isIP(p.address) === 6) && proofs.some((p) => isIP(p.address) === 4);
  return {
    name,
    ok: false,
    code: onlyV6 ? AAAA_UNREACHABLE : DCV_HTTP_ADDRESS_DISAGREES,
    reason: `${finding}; the CA validates from several network perspectives and may use any address: serve the file on every address (the same docroot) or remove the records of those that do not`,
  };
}

/**
 * Under 'first', 'ipv6' and 'ipv6-then-ipv4' the CA picks its addresses (`picked`); an address it does not pick that
 * fails while another serves the file is a warning on a name that passes, and changes nothing on one that fails.
 */
export function warnOfOtherAddresses(verdict: NameVerdict, host: string, picked: AddressProof[], others: AddressProof[], did = SERVED): NameVerdict {
  if (!verdict.ok) return verdict;
  const finding = addressDisagreement(host, others, [...picked, ...others], did);
  if (!finding) return verdict;
  const warning = {
    code: DCV_HTTP_ADDRESS_DISAGREES,
    message: `${finding}; this CA fetches from the address it picks, so the name passes, but a CA that validates from several perspectives would fail it: serve the file on every address or remove the records of those that do not`,
  };
  return { ...verdict, warnings: [...(verdict.warnings ?? []), warning] };
}
