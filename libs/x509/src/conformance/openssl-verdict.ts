import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { peerNames, validationTime, type LimboCase } from './corpus.js';

const exec = promisify(execFile);

/**
 * What `openssl verify -x509_strict -purpose sslserver -attime <t> [-verify_hostname <name>]` says of a case, with
 * the case's trusted certificates as the only trust (no system store) and its intermediates as untrusted ones.
 * Accepted when it exits 0. Only the first expected name is passed: `openssl verify` takes one.
 */
export async function opensslVerdict(testcase: LimboCase, openssl = 'openssl'): Promise<{ accepted: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'limbo-'));
  try {
    const file = (name: string, pems: string[]) => writeFile(join(dir, name), pems.join('\n')).then(() => join(dir, name));
    const [trusted, untrusted, peer] = await Promise.all([
      file('trusted.pem', testcase.trusted_certs),
      file('untrusted.pem', testcase.untrusted_intermediates),
      file('peer.pem', [testcase.peer_certificate]),
    ]);
    const args = [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-no-CApath',
      '-no-CAstore',
      '-CAfile',
      trusted,
      '-attime',
      String(Math.floor(validationTime(testcase).getTime() / 1000)),
    ];
    if (testcase.untrusted_intermediates.length) args.push('-untrusted', untrusted);
    const name = peerNames(testcase)[0];
    if (name) args.push('-verify_hostname', name);
    args.push(peer);
    try {
      const { stdout, stderr } = await exec(openssl, args, { timeout: 60_000 });
      return { accepted: true, output: stdout + stderr };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      return { accepted: false, output: (e.stdout ?? '') + (e.stderr ?? e.message) };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
