export type ProfileName = 'full' | 'dnsonly';

/**
 * What each kind of server gets before its config file overrides anything: its services, the plugins loaded by
 * package name, the issuer chain and the DCV method. The composition (the CLI) declares them; the core only applies
 * the one a config names.
 */
export interface Profile {
  services: Record<string, Record<string, unknown>>;
  plugins: string[];
  issuers: string[];
  dcvMethod: 'http' | 'dns';
}

export type Profiles = Record<ProfileName, Profile>;

/** Profiles that add nothing: what a config gets when no composition declared its own (library use, unit tests). */
export const BARE_PROFILES: Profiles = {
  full: { services: {}, plugins: [], issuers: [], dcvMethod: 'http' },
  dnsonly: { services: {}, plugins: [], issuers: [], dcvMethod: 'dns' },
};
