import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePem } from '@certsmith/x509';

/** A certificate/key pair a virtual host names in the web server's configuration. */
export interface VhostPair {
  configFile: string;
  certFile: string;
  keyFile: string;
}

const DIRECTIVES = {
  nginx: { block: /\bserver\s*\{/g, cert: /(?:^|[\s;{])ssl_certificate\s+("?)([^";\s]+)\1\s*;/, key: /(?:^|[\s;{])ssl_certificate_key\s+("?)([^";\s]+)\1\s*;/ },
  apache: { block: /<VirtualHost\b/gi, cert: /^\s*SSLCertificateFile\s+("?)([^"\s]+)\1/im, key: /^\s*SSLCertificateKeyFile\s+("?)([^"\s]+)\1/im },
} as const;

/**
 * The certificate/key pairs of every virtual host in the given config files (a directory means its *.conf files):
 * per `server { }` block (nginx) or `<VirtualHost>` (Apache), the first certificate and key directives.
 */
export async function vhostPairs(server: 'nginx' | 'apache', paths: string[]): Promise<VhostPair[]> {
  const files: string[] = [];
  for (const path of paths) {
    const st = await stat(path).catch(() => null);
    if (st?.isDirectory())
      files.push(
        ...(await readdir(path))
          .filter((f) => f.endsWith('.conf'))
          .sort()
          .map((f) => join(path, f)),
      );
    else if (st?.isFile()) files.push(path);
  }
  const syntax = DIRECTIVES[server];
  const pairs: VhostPair[] = [];
  for (const configFile of files) {
    const text = (await readFile(configFile, 'utf8')).replace(/#.*$/gm, '');
    for (const block of text.split(syntax.block).slice(1)) {
      const cert = syntax.cert.exec(block)?.[2];
      const key = syntax.key.exec(block)?.[2];
      if (cert && key) pairs.push({ configFile, certFile: cert, keyFile: key });
    }
  }
  return pairs;
}

/** SHA-256 of the first certificate in a PEM file; null when there is none or it cannot be read. */
export async function leafFingerprintOf(file: string): Promise<string | null> {
  const text = await readFile(file, 'latin1').catch(() => null);
  const leaf = text ? parsePem(text).find((b) => b.label === 'CERTIFICATE') : undefined;
  return leaf ? createHash('sha256').update(leaf.der).digest('hex') : null;
}
