import { readFileSync } from 'node:fs';
import { ContainerModule, TOKENS, UsageError, resolveConfigPath, type AddressPreference, type CertsmithConfig, type OptionsOf } from '@certsmith/core';
import { readEabKey } from './eab.js';
import { AcmeIssuer } from './issuer.js';
import type { ChallengeType } from './order-flow.js';

/** What an issuer plugin knows of its CA, beside the protocol: its defaults and how its certificates are recognised. */
export interface AcmeCa {
  /** The issuer id when the options give none. */
  id: string;
  /** Default directory; undefined = the option is required. */
  directoryUrl?: string;
  eabRequired: boolean;
  /** Issuer names of the CA's certificates (its renewal threshold applies to them). */
  issuerPatterns: string[];
  /** The CA's CAA issuer domain names (RFC 8659) for a directory; [] when they are not known. */
  caaIdentities: (directoryUrl: string) => string[];
  maxWaitSeconds: number;
  pollMaxMs: number;
  /** How the CA picks the address of a name with AAAA and A for http-01. */
  addressPreference: AddressPreference;
}

/**
 * The options of any ACME issuer plugin. A plugin adds what its CA requires (`required`); the defaults the
 * descriptions mention are its CA's (AcmeCa).
 */
export const ACME_OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, description: `Issuer id for the config's "issuers" list (default: the plugin's, e.g. "acme").` },
    directoryUrl: { type: 'string', pattern: '^https://', description: "The CA's ACME directory (default: the plugin's CA's, when it has one)." },
    caFile: {
      type: 'string',
      minLength: 1,
      description: "PEM file of the CA that signed the ACME server's TLS certificate, for a private CA (Pebble); relative to the config file.",
    },
    eab: {
      type: 'object',
      additionalProperties: false,
      required: ['kid', 'keyFile'],
      properties: {
        kid: { type: 'string', minLength: 1, description: 'External Account Binding key id.' },
        keyFile: { type: 'string', minLength: 1, description: 'File holding the base64url HMAC key, mode 0600; relative to the config file.' },
      },
    },
    contact: { type: 'array', items: { type: 'string', minLength: 3 }, description: 'Contact e-mail addresses (mailto: added when missing).' },
    preferredChain: { type: 'string', minLength: 1, description: 'CN of the root (topmost issuer) of the chain to prefer among alternates.' },
    issuerPatterns: { type: 'array', items: { type: 'string', format: 'regex' }, description: 'Issuer names of this CA (its renewal threshold applies).' },
    caaIdentities: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$' },
      description:
        "The CA's CAA issuer domain names, checked against each name's CAA records before ordering; [] turns the check off (default: the plugin's for its CA, else none).",
    },
    accountKeyType: { enum: ['ES256', 'RS256'] },
    challengeTypes: {
      type: 'array',
      minItems: 1,
      items: { enum: ['http-01', 'dns-01', 'dns-persist-01'] },
      description:
        "Preference order; the first one the CA offers and a loaded DCV method answers is used. 'dns-persist-01' first: a standing _validation-persist TXT record naming the CA (caaIdentities) and the account, published once through dcv-dns and never removed, falling back to the next type where the CA does not offer it. Default from the profile's DCV method.",
    },
    maxWaitSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 3600,
      description: "How long one run waits for the CA before leaving the order pending (default: the plugin's for its CA).",
    },
    requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 300_000 },
    accountLockWaitSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      description: 'How long account set-up waits for another run that is setting up the same account (default 120).',
    },
    profile: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description:
        "The CA's ACME profile to order under (e.g. classic, tlsserver, shortlived); one its directory offers, checked when the plugin loads. Default: the CA's default profile.",
    },
    addressPreference: {
      enum: ['ipv6', 'ipv6-then-ipv4', 'first', 'every'],
      description:
        "Which address of a name with AAAA and A records the CA fetches the HTTP file from, for the local pre-check: 'ipv6' (the AAAA address decides), 'ipv6-then-ipv4' (the A address after a failed IPv6 connection), 'first' (the first address alone, cPanel's rule) or 'every' (a CA that validates from several perspectives: every address must serve the file and every authoritative server give the same addresses). Default: the plugin's for its CA.",
    },
  },
} as const;

/** The options an ACME issuer plugin is given, once checked against its schema. */
export type AcmeOptions = OptionsOf<typeof ACME_OPTIONS_SCHEMA>;

/**
 * The ContainerModule of an ACME issuer plugin: one issuer for its CA, bound asynchronously because loading reads
 * files (CA, EAB key) and asks the CA's directory whether it offers a configured profile, so that faults exit 2
 * before any target is touched. `where`: the options' place in the config, for the messages.
 */
export function acmeIssuerModule(ca: AcmeCa, options: AcmeOptions, where: string): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(TOKENS.Issuer)
      .toDynamicValue((ctx) => loadAcmeIssuer(ca, options, ctx.get<CertsmithConfig>(TOKENS.Config), where))
      .inSingletonScope();
  });
}

/** The issuer for the options, its profile checked against the CA's directory when the CA can be reached. */
export async function loadAcmeIssuer(ca: AcmeCa, options: AcmeOptions, config: CertsmithConfig, where: string): Promise<AcmeIssuer> {
  const issuer = acmeIssuerFromOptions(ca, options, config, where);
  await refuseProfileNotOffered(issuer, where);
  return issuer;
}

/** How long loading waits for the CA's directory before leaving the profile check to the first order. */
const PROFILE_CHECK_TIMEOUT_MS = 10_000;

/**
 * A profile the CA does not offer is a configuration error (UsageError: exit 2, nothing ordered). A CA that cannot
 * be reached now is not: the issuer checks again before its first order and refuses to order then.
 */
async function refuseProfileNotOffered(issuer: AcmeIssuer, where: string): Promise<void> {
  if (!issuer.options.profile) return;
  let refusal: string | null;
  try {
    refusal = await issuer.profileRefusal(AbortSignal.timeout(PROFILE_CHECK_TIMEOUT_MS));
  } catch {
    return;
  }
  if (refusal) throw new UsageError('ACME_PROFILE_NOT_OFFERED', `${where}.profile: ${refusal}`);
}

/** `where`: the options' place in the config (`<file>: $.plugins[N].options`), for the messages. */
export function acmeIssuerFromOptions(ca: AcmeCa, options: AcmeOptions, config: CertsmithConfig, where: string): AcmeIssuer {
  const directoryUrl = options.directoryUrl ?? ca.directoryUrl;
  if (!directoryUrl) throw new UsageError('CONFIG_INVALID', `${where}.directoryUrl: is required`);
  let caPem: string | undefined;
  if (options.caFile) {
    const file = resolveConfigPath(config, options.caFile);
    try {
      caPem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError('CA_FILE_UNREADABLE', `${where}.caFile: ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!caPem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError('CA_FILE_INVALID', `${where}.caFile: ${file} holds no PEM certificate`);
  }
  const eab = options.eab ? readEabKey(options.eab.kid, resolveConfigPath(config, options.eab.keyFile), `${where}.eab.keyFile`) : undefined;
  if (ca.eabRequired && !eab) throw new UsageError('EAB_REQUIRED', `${where}.eab: is required for ${ca.id} (kid and keyFile)`);
  const challengeTypes: ChallengeType[] = options.challengeTypes ?? (config.dcv.method === 'dns' ? ['dns-01'] : ['http-01', 'dns-01']);
  return new AcmeIssuer({
    id: options.id ?? ca.id,
    directoryUrl,
    caPem,
    eab,
    contact: options.contact?.map((c) => (c.startsWith('mailto:') ? c : `mailto:${c}`)),
    preferredChain: options.preferredChain,
    issuerPatterns: (options.issuerPatterns ?? ca.issuerPatterns).map((p) => new RegExp(p, 'i')),
    caaIdentities: options.caaIdentities ?? ca.caaIdentities(directoryUrl),
    accountKeyType: options.accountKeyType ?? 'ES256',
    challengeTypes,
    maxWaitMs: (options.maxWaitSeconds ?? ca.maxWaitSeconds) * 1000,
    precheck: challengeTypes[0] === 'http-01' ? 'http' : 'dns',
    requestTimeoutMs: options.requestTimeoutMs,
    pollMaxMs: ca.pollMaxMs,
    accountLockWaitMs: options.accountLockWaitSeconds === undefined ? undefined : options.accountLockWaitSeconds * 1000,
    addressPreference: options.addressPreference ?? ca.addressPreference,
    profile: options.profile,
  });
}
