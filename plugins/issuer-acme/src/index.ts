// Any ACME CA (Let's Encrypt, ZeroSSL, a private CA such as Pebble): the directory URL is required; EAB when the
// CA wants it; a CA file for a private CA's TLS certificate.
import { acmeIssuerPlugin } from '@certsmith/acme';

export const manifest = acmeIssuerPlugin({
  packageName: '@certsmith/issuer-acme',
  version: '0.1.0',
  id: 'acme',
  eabRequired: false,
  issuerPatterns: ["Let's Encrypt", 'ZeroSSL'],
  maxWaitSeconds: 60,
  pollMaxMs: 5_000,
  // An ACME CA fetches http-01 over the AAAA address when a name has one. Let's Encrypt retries over IPv4 after a failed
  // IPv6 connection ('ipv6-then-ipv4'), Pebble does not: the default assumes no retry, so no order fails on it.
  addressPreference: 'ipv6',
});
export default manifest;
