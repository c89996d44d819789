// DNSSEC validation (RFC 4033-4035): canonical forms, key tags, DS digests, signatures and validity windows.
export { canonicalRdata, canonicalNameWire, labelCount, signedData } from './canonical.js';
export { dsDigest, dsMatchesKey, isSupportedDigest } from './ds-digest.js';
export { dnskeyRdata, keyTag } from './key-tag.js';
export { SUPPORTED_ALGORITHMS, isSupportedAlgorithm, verifySignature, verifySignatureAsync } from './signature.js';
export { isoSeconds, rrsigTime, windowProblem } from './validity.js';
export { signaturesOver, verifyRrset, verifyRrsetAsync, type SignedRrset } from './rrset.js';
export { dnskeyRrset, validateZoneKeys, type ZoneKeys } from './zone-keys.js';
export { ZONE_KEY_FLAG, type DnskeyData, type DsData, type RrsigData, type Verdict } from './types.js';
export {
  validateChain,
  validateDenial,
  zoneKeysOf,
  type ChainContext,
  type DnssecStatus,
  type FetchedDs,
  type FetchedKeys,
  type SignedAnswer,
  type SignedDenial,
  type ZoneCut,
  type ZoneKeysResult,
} from './chain.js';
export { IANA_ROOT_TRUST_ANCHORS, parseTrustAnchors, readTrustAnchors } from './trust-anchors.js';
export { cutAt, type CutFinding } from './zone-cut.js';
export { verifyDenial, type DenialQuestion, type ProofResult } from './denial.js';
export { compareNames } from './name-order.js';
export { MAX_NSEC3_ITERATIONS, base32hex, nsec3Hash } from './nsec3.js';
