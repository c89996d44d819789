// Sectigo over ACME (docs/domain-facts.md#ordering): its DV directory by default, External Account Binding required, orders that may
// stay `processing` for long: a run waits a while, then the order is left pending and resumed by the next run.
import { acmeIssuerPlugin } from '@certsmith/acme';

export const SECTIGO_DV_DIRECTORY = 'https://acme.sectigo.com/v2/DV';

export const manifest = acmeIssuerPlugin({
  packageName: '@certsmith/issuer-sectigo',
  version: '0.1.0',
  id: 'sectigo',
  directoryUrl: SECTIGO_DV_DIRECTORY,
  eabRequired: true,
  issuerPatterns: ['Sectigo'],
  // The issuer domain names Sectigo's CPS recognises in CAA issue/issuewild properties (Comodo CA's old names too).
  caaIdentities: ['sectigo.com', 'comodoca.com', 'comodo.com', 'usertrust.com', 'trust-provider.com'],
  maxWaitSeconds: 120,
  // Sectigo validates and issues asynchronously: poll less often than a fast CA once the first quick polls fail.
  pollMaxMs: 15_000,
  // Sectigo: cPanel's rule, the first address decides (how Sectigo picks is not documented).
  addressPreference: 'first',
});
export default manifest;
