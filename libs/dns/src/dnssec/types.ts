/** A DS record's data, as dns-packet decodes it (also the form of a trust anchor). */
export interface DsData {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: Uint8Array;
}

/** A DNSKEY record's data, as dns-packet decodes it (the protocol octet is always 3). */
export interface DnskeyData {
  flags: number;
  algorithm: number;
  key: Uint8Array;
}

/** An RRSIG record's data, as dns-packet decodes it; times are seconds since the epoch modulo 2^32. */
export interface RrsigData {
  typeCovered: string;
  algorithm: number;
  labels: number;
  originalTTL: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signersName: string;
  signature: Uint8Array;
}

/**
 * The result of one DNSSEC check: `secure`; `bogus` (it must not be used) or `unsupported` (an algorithm or digest
 * this code does not know: the data is insecure, RFC 6840 section 5.2), each with a reason.
 */
export type Verdict = { status: 'secure' } | { status: 'bogus' | 'unsupported'; reason: string };

/** Zone-signing key flag (RFC 4034 section 2.1.1): only such keys may verify a zone's RRSIGs. */
export const ZONE_KEY_FLAG = 0x0100;
