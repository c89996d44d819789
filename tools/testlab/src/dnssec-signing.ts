import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun } from './process.js';

/** DNSSEC algorithms the lab signs with, by BIND's name for them. */
export type LabAlgorithm = 'ECDSAP256SHA256' | 'RSASHA256';

/** One key made by dnssec-keygen: its file base name (`K<zone>.+<alg>+<tag>`), its DNSKEY line and its DS line. */
export interface LabKey {
  base: string;
  dnskey: string;
  ds: string;
}

/** A single combined signing key (flags 257) for `zone`, as dnssec-keygen writes it into `dir`. */
export async function makeKey(dir: string, zone: string, algorithm: LabAlgorithm): Promise<LabKey> {
  const size = algorithm === 'RSASHA256' ? ['-b', '2048'] : [];
  const base = (await mustRun('dnssec-keygen', ['-q', '-K', dir, '-a', algorithm, ...size, '-f', 'KSK', '-n', 'ZONE', zone])).trim();
  const keyFile = join(dir, `${base}.key`);
  const dnskey = dataLines(await readFile(keyFile, 'utf8'))[0]!;
  const ds = (await mustRun('dnssec-dsfromkey', ['-2', keyFile])).trim();
  return { base, dnskey, ds };
}

/** Signature validity window, as dnssec-signzone's -s and -e take it (UTC). */
export interface SigningWindow {
  inception: Date;
  expiration: Date;
}

/**
 * Signs the zone text of `zone` with `key` and returns the signed text. The DNSKEY is added to the zone first;
 * every RRset is signed with the one key (-z: it has the KSK flag), and the check dnssec-signzone runs after
 * signing is off (-P), since some lab zones are broken on purpose; its dsset- files go to `dir` (-d), not the cwd.
 */
export async function signZone(dir: string, zone: string, text: string, key: LabKey, window?: SigningWindow): Promise<string> {
  const unsigned = join(dir, `${zone}.unsigned`);
  const signed = join(dir, `${zone}.signed`);
  await writeFile(unsigned, `${text}\n${key.dnskey}\n`);
  const times = window ? ['-s', signzoneTime(window.inception), '-e', signzoneTime(window.expiration)] : [];
  await mustRun('dnssec-signzone', ['-P', '-z', '-K', dir, '-d', dir, '-o', zone || '.', '-f', signed, ...times, unsigned, join(dir, key.base)]);
  return `${(await readFile(signed, 'utf8')).trimEnd()}\n`;
}

/** YYYYMMDDHHMMSS in UTC. */
export function signzoneTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The record lines of a key file (its comments dropped). */
function dataLines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';'));
}
