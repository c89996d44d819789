// @certsmith/dns: iterative resolution from the root hints (never /etc/resolv.conf), and RFC 2136 dynamic
// updates signed with TSIG. dns-packet encodes and decodes; the iteration and the checks are ours.
export {
  IterativeResolver,
  SPECIAL_USE_TLDS,
  specialUseTld,
  classifyResponse,
  isPrivateAddress,
  type IterativeResolverOptions,
  type DnssecOptions,
  type Lookup,
  type NameServer,
} from './iterative-resolver.js';
export {
  validateChain,
  validateZoneKeys,
  verifyRrset,
  keyTag,
  dsMatchesKey,
  IANA_ROOT_TRUST_ANCHORS,
  parseTrustAnchors,
  readTrustAnchors,
  type DnssecStatus,
  type DsData,
  type DnskeyData,
  type RrsigData,
  type Verdict,
} from './dnssec/index.js';
export { lookupCaa, caaRecordOf, type CaaLevelResolver } from './caa.js';
export { authoritativeAddresses, type AuthoritativeAddresses, type AuthoritativeResolver, type ServerAddressAnswer } from './authoritative-addresses.js';
export { ANY_ADDRESS, LOOPBACK_ONLY, type AddressPolicy } from './address-policy.js';
export { DnsTransport, type QueryResult, type TransportOptions, type TransportStats } from './transport.js';
export { IANA_ROOT_HINTS, parseRootHints, readRootHints, type HintServer } from './root-hints.js';
export { TsigKey, parseBindKey, readBindKeyFile, signMessage, verifyResponse, findTsig, type TsigRecord } from './tsig.js';
export { sendUpdate, encodeUpdate, type RecordChange, type UpdateTarget } from './update.js';
export {
  acceptResponse,
  encodeQuery,
  normalizeName,
  fqdn,
  isWithin,
  txtValue,
  nameData,
  addressData,
  EDNS_UDP_SIZE,
  type DnsRecord,
  type DnsResponse,
  type QueryType,
  type EncodedQuery,
} from './wire.js';
