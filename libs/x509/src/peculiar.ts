import { webcrypto } from 'node:crypto';

let loading: Promise<typeof import('@peculiar/x509')> | null = null;

/**
 * @peculiar/x509 on first use, with node's WebCrypto as its provider. Loading it (and the asn1 packages it pulls in)
 * costs ~0.3 s of CPU and ~20 MB; only a self-signed certificate or a CRL needs it, not every run.
 */
export function peculiarX509(): Promise<typeof import('@peculiar/x509')> {
  return (loading ??= import('@peculiar/x509').then((x509) => {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  }));
}
