import { validatesStanding, type DcvCheckOptions, type Issuer } from './contracts.js';

/**
 * What the local DCV checks for an issuer, as its CA will validate: the address it picks, the redirects it follows and, for a CA that validates
 * against a standing record, whom the record must name. `stateDir`: the issuer's own (its account).
 */
export async function dcvCheckOptionsOf(issuer: Issuer, stateDir: string): Promise<DcvCheckOptions> {
  const standing = validatesStanding(issuer) ? await issuer.standingRecord(stateDir) : null;
  return {
    addressPreference: issuer.addressPreference,
    ...(issuer.httpRedirects ? { redirects: issuer.httpRedirects } : {}),
    ...(standing ? { standing } : {}),
  };
}
