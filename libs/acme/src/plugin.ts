import { readFileSync } from 'node:fs';
import { UsageError, definePlugin, resolveConfigPath, type AddressPreference, type CertsmithConfig, type PluginManifest } from '@certsmith/core';
import { readEabKey } from './eab.js';
import { AcmeIssuer } from './issuer.js';
import type { JwsAlgorithm } from './jws.js';
import type { ChallengeType } from './order-flow.js';

/** What an issuer plugin built on this client fixes or defaults (Sectigo's preset, the generic one). */
export interface AcmePreset {
  packageName: string;
  version: string;
  id: string;
  /** Default directory; undefined = the option is required. */
  directoryUrl?: string;
  eabRequired: boolean;
  issuerPatterns: string[];
  /** The CA's CAA issuer domain names (RFC 8659); undefined: derived from the directory URL when it is well known. */
  caaIdentities?: string[];
  maxWaitSeconds: number;
  pollMaxMs: number;
  /** How the CA picks the address of a name with AAAA and A for http-01. */
  addressPreference: AddressPreference;
}

export interface AcmePluginOptions {
  id?: string;
  directoryUrl?: string;
  caFile?: string;
  eab?: { kid: string; keyFile: string };
  contact?: string[];
  preferredChain?: string;
  issuerPatterns?: string[];
  caaIdentities?: string[];
  accountKeyType?: JwsAlgorithm;
  challengeTypes?: ChallengeType[];
  maxWaitSeconds?: number;
  requestTimeoutMs?: number;
  accountLockWaitSeconds?: number;
  addressPreference?: AddressPreference;
  profile?: string;
}

function optionsSchema(preset: AcmePreset): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: [...(preset.directoryUrl ? [] : ['directoryUrl']), ...(preset.eabRequired ? ['eab'] : [])],
    properties: {
      id: { type: 'string', minLength: 1, description: `Issuer id for the config's "issuers" list (default "${preset.id}").` },
      directoryUrl: {
        type: 'string',
        pattern: '^https://',
        description: `The CA's ACME directory${preset.directoryUrl ? ` (default ${preset.directoryUrl})` : ''}.`,
      },
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
        description: `The CA's CAA issuer domain names, checked against each name's CAA records before ordering; [] turns the check off (default: ${preset.caaIdentities?.length ? preset.caaIdentities.join(', ') : "known for well-known directories such as Let's Encrypt, else none"}).`,
      },
      accountKeyType: { enum: ['ES256', 'RS256'] },
      challengeTypes: {
        type: 'array',
        minItems: 1,
        items: { enum: ['http-01', 'dns-01'] },
        description: "Preference order; default from the profile's DCV method.",
      },
      maxWaitSeconds: {
        type: 'integer',
        minimum: 0,
        maximum: 3600,
        description: `How long one run waits for the CA before leaving the order pending (default ${preset.maxWaitSeconds}).`,
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
          "The CA's ACME profile to order under (e.g. Let's Encrypt's classic, tlsserver, shortlived); one its directory offers, checked when the plugin loads. Default: the CA's default profile.",
      },
      addressPreference: {
        enum: ['ipv6', 'ipv6-then-ipv4', 'first'],
        description: `Which address of a name with AAAA and A records the CA fetches the HTTP file from, for the local pre-check: 'ipv6' (the AAAA address decides), 'ipv6-then-ipv4' (the A address after a failed IPv6 connection, as Let's Encrypt documents) or 'first' (the first address alone, cPanel's rule). Default '${preset.addressPreference}'.`,
      },
    },
  };
}

/**
 * The plugin manifest of an ACME issuer: options checked, files (CA, EAB key) read at load time, and a configured
 * profile looked up in the CA's directory, so that faults exit 2 before any target is touched. A setup() rather
 * than a ContainerModule: inversify loads modules synchronously, and the profile check is a request to the CA.
 */
export function acmeIssuerPlugin(preset: AcmePreset): PluginManifest {
  return definePlugin({
    name: preset.packageName,
    version: preset.version,
    apiVersion: 1,
    optionsSchema: optionsSchema(preset),
    setup: async ({ options, config, contribute, where }) => {
      const issuer = acmeIssuerFromOptions(preset, options as AcmePluginOptions, config, where);
      await refuseProfileNotOffered(issuer, where);
      contribute.issuer(issuer);
    },
  });
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
export function acmeIssuerFromOptions(
  preset: AcmePreset,
  options: AcmePluginOptions,
  config: CertsmithConfig,
  where = `${config.file}: options of ${preset.packageName}`,
): AcmeIssuer {
  const directoryUrl = options.directoryUrl ?? preset.directoryUrl;
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
  if (preset.eabRequired && !eab) throw new UsageError('EAB_REQUIRED', `${where}.eab: is required for ${preset.id} (kid and keyFile)`);
  const challengeTypes = options.challengeTypes ?? (config.dcv.method === 'dns' ? ['dns-01'] : ['http-01', 'dns-01']);
  return new AcmeIssuer({
    id: options.id ?? preset.id,
    directoryUrl,
    caPem,
    eab,
    contact: options.contact?.map((c) => (c.startsWith('mailto:') ? c : `mailto:${c}`)),
    preferredChain: options.preferredChain,
    issuerPatterns: (options.issuerPatterns ?? preset.issuerPatterns).map((p) => new RegExp(p, 'i')),
    caaIdentities: options.caaIdentities ?? preset.caaIdentities ?? caaIdentitiesOf(directoryUrl),
    accountKeyType: options.accountKeyType ?? 'ES256',
    challengeTypes,
    maxWaitMs: (options.maxWaitSeconds ?? preset.maxWaitSeconds) * 1000,
    precheck: challengeTypes[0] === 'dns-01' ? 'dns' : 'http',
    requestTimeoutMs: options.requestTimeoutMs,
    pollMaxMs: preset.pollMaxMs,
    accountLockWaitMs: options.accountLockWaitSeconds === undefined ? undefined : options.accountLockWaitSeconds * 1000,
    addressPreference: options.addressPreference ?? preset.addressPreference,
    profile: options.profile,
  });
}

/**
 * The CAA identities of well-known public ACME CAs, from their directory's host (each CA's CPS / CAA help page).
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
