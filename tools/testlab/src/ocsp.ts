import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { LabCa, LabCert } from './certs.js';
import { ensurePackages } from './packages.js';
import { ServerProcess } from './process.js';

export interface OcspResponder {
  port: number;
  /** The responder URL for certificates' AIA: any loopback address reaches it (it binds the wildcard). */
  url: string;
  signer: LabCert;
  /** Restarts it so that it reads index.txt afresh (it notices changes one request late otherwise). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * A port nobody listens on, from the system. `openssl ocsp -port` (OpenSSL 3.0) binds the wildcard and takes a
 * number only, so the port is chosen first and the certificates' AIA URLs are written with it.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '::', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs the real `openssl ocsp` responder for a lab CA, signing with a delegated OCSPSigning certificate. */
export async function startOcspResponder(ca: LabCa, options: { port: number; address: string }): Promise<OcspResponder> {
  await ensurePackages({ '/usr/bin/openssl': 'openssl' });
  const signer = await ca.issue('ocsp-responder', { cn: 'Lab OCSP Responder', san: null, eku: ['OCSPSigning'], days: 30 });
  const args = [
    'ocsp',
    '-index',
    join(ca.dir, 'index.txt'),
    '-port',
    String(options.port),
    '-rsigner',
    signer.certFile,
    '-rkey',
    signer.keyFile,
    '-CA',
    ca.certFile,
    '-ignore_err',
    '-nmin',
    '5',
    '-timeout',
    '5',
  ];
  let server: ServerProcess;
  const start = async () => {
    server = new ServerProcess('openssl ocsp', '/usr/bin/openssl', args);
    // Not a TCP probe: a connection closed without a request stalls this single-threaded responder.
    await server.waitUntil(async () => server.log.includes('waiting for OCSP client connections'));
  };
  await start();
  return {
    port: options.port,
    url: `http://${options.address}:${options.port}/`,
    signer,
    async restart() {
      await server.stop();
      await start();
    },
    stop: () => server.stop(),
    log: () => server.log,
  };
}
