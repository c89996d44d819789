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
  return JUDGED_OUT[testcase.id] ?? null;
}

const ANCHOR_ENCODING = "a rule on the trust anchor's own encoding (browsers take an anchor as a name and a key; roots of the system store break such rules)";
const CA_AS_LEAF = 'a CA certificate as the server certificate, expected valid (certsmith refuses it, as webpki::ee-basicconstraints-ca expects)';
const COMMON_NAME =
  'the commonName against the SAN (BR 7.1.4.3, an issuance rule; browsers ignore the CN, and other cases expect success with a CN outside the SAN)';

/**
 * Cases out of scope by what they test rather than by a field: each reason says why certsmith's answer is the
 * other one on purpose. docs/conformance.md lists them.
 */
const JUDGED_OUT: Record<string, string> = {
  'rfc5280::aki::critical-aki': ANCHOR_ENCODING,
  'rfc5280::aki::cross-signed-root-missing-aki': ANCHOR_ENCODING,
  'rfc5280::ski::root-missing-ski': ANCHOR_ENCODING,
  'rfc5280::root-non-critical-basic-constraints': ANCHOR_ENCODING,
  'webpki::aki::root-with-aki-missing-keyidentifier': ANCHOR_ENCODING,
  'webpki::aki::root-with-aki-authoritycertissuer': ANCHOR_ENCODING,
  'webpki::aki::root-with-aki-authoritycertserialnumber': ANCHOR_ENCODING,
  'webpki::aki::root-with-aki-all-fields': ANCHOR_ENCODING,
  'webpki::aki::root-with-aki-ski-mismatch': ANCHOR_ENCODING,
  'webpki::eku::root-has-eku': ANCHOR_ENCODING,
  'pathlen::validation-ignores-pathlen-in-leaf': CA_AS_LEAF,
  'webpki::cn::not-in-san': COMMON_NAME,
  'webpki::cn::case-mismatch': COMMON_NAME,
  'webpki::cn::punycode-not-in-san': COMMON_NAME,
  'webpki::cn::utf8-vs-punycode-mismatch': COMMON_NAME,
};

/** An rfc5280 case whose expected result the corpus itself contradicts with a webpki case. */
function conflictsWithWebPki(testcase: LimboCase & { conflicts_with?: string[] | null }): boolean {
  return testcase.id.startsWith('rfc5280::') && (testcase.conflicts_with ?? []).some((id) => id.startsWith('webpki::'));
}
