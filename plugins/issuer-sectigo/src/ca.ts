import type { AcmeCa } from '@certsmith/acme';

export const SECTIGO_DV_DIRECTORY = 'https://acme.sectigo.com/v2/DV';

/** The issuer domain names Sectigo's CPS recognises in CAA issue/issuewild properties (Comodo CA's old names too). */
export const SECTIGO_CAA_IDENTITIES = ['sectigo.com', 'comodoca.com', 'comodo.com', 'usertrust.com', 'trust-provider.com'];

/**
 * Sectigo over ACME: its DV directory by default, External Account Binding required, orders that may stay
 * `processing` for long (a run waits a while, then the order is left pending and resumed by the next run).
 */
export const SECTIGO_CA: AcmeCa = {
  id: 'sectigo',
  directoryUrl: SECTIGO_DV_DIRECTORY,
  eabRequired: true,
  issuerPatterns: ['Sectigo'],
  caaIdentities: () => SECTIGO_CAA_IDENTITIES,
  maxWaitSeconds: 120,
  // Sectigo validates and issues asynchronously: poll less often than a fast CA once the first quick polls fail.
  pollMaxMs: 15_000,
  // cPanel's rule for Sectigo, the first address decides (how Sectigo picks is not documented).
  addressPreference: 'first',
};
