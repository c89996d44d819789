import type { LimboCase } from './corpus.js';

/**
 * Why a case is outside what certsmith decides (a TLS server certificate for host names, inspected from the
 * service's files against a trust store), or null when it is in scope. The reasons are the rows of
 * docs/conformance.md; each names something the tool has no input or no use for.
 */
export function outOfScope(testcase: LimboCase): string | null {
  if (testcase.validation_kind !== 'SERVER') return 'client certificate validation (CLIENT)';
  const names = [testcase.expected_peer_name, ...(testcase.expected_peer_names ?? [])].filter((n) => n !== null);
  if (names.length === 0) return 'no expected peer name (a target always has host names)';
  if (names.some((n) => n.kind !== 'DNS')) return 'IP address or e-mail peer (targets are host names)';
  if (testcase.max_chain_depth !== null) return 'max_chain_depth override (no such setting)';
  if (testcase.crls.length > 0) return 'CRLs supplied with the case (certsmith fetches CRLs from the distribution point)';
  if (testcase.key_usage.length > 0) return 'key_usage expectation (no such setting)';
  if (testcase.signature_algorithms.length > 0) return 'signature_algorithms expectation (no such setting)';
  if (testcase.extended_key_usage.some((eku) => eku !== 'serverAuth')) return 'EKU expectation other than serverAuth';
  if (conflictsWithWebPki(testcase)) return 'contradicts a WebPKI case of the corpus (certsmith follows the Web PKI, as browsers do)';
  return null;
}

/** An rfc5280 case whose expected result the corpus itself contradicts with a webpki case. */
function conflictsWithWebPki(testcase: LimboCase & { conflicts_with?: string[] | null }): boolean {
  return testcase.id.startsWith('rfc5280::') && (testcase.conflicts_with ?? []).some((id) => id.startsWith('webpki::'));
}
