import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun } from './process.js';

/** DNSSEC algorithms the lab signs with, by BIND's name for them. */
export type LabAlgorithm = 'ECDSAP256SHA256' | 'RSASHA256' | 'ED448';

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

/** How a zone's denials are signed: NSEC (the default) or NSEC3 with a hex salt and, with optOut, opt-out (-A). */
export interface Nsec3Options {
  salt: string;
  optOut: boolean;
}

/**
 * Signs the zone text of `zone` with `key` and returns the signed text, one record a line (-O full). The DNSKEY is
 * added to the zone first; every RRset is signed with the one key (-z: it has the KSK flag), and the check
 * dnssec-signzone runs after signing is off (-P), since some lab zones are broken on purpose; its dsset- files go to
 * `dir` (-d), not the cwd. With `nsec3`, denials are NSEC3 with no extra iterations (RFC 9276).
 */
export async function signZone(dir: string, zone: string, text: string, key: LabKey, window?: SigningWindow, nsec3?: Nsec3Options): Promise<string> {
  const unsigned = join(dir, `${zone}.unsigned`);
  const signed = join(dir, `${zone}.signed`);
  await writeFile(unsigned, `${text}\n${key.dnskey}\n`);
  const times = window ? ['-s', signzoneTime(window.inception), '-e', signzoneTime(window.expiration)] : [];
  const denial = nsec3 ? ['-3', nsec3.salt, '-H', '0', ...(nsec3.optOut ? ['-A'] : [])] : [];
  const args = ['-P', '-z', '-O', 'full', '-K', dir, '-d', dir, '-o', zone || '.', '-f', signed, ...times, ...denial];
  await mustRun('dnssec-signzone', [...args, unsigned, join(dir, key.base)]);
  return `${(await readFile(signed, 'utf8')).trimEnd()}\n`;
}

/** YYYYMMDDHHMMSS in UTC. */
export function signzoneTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/**
 * A signed zone's text without its NSEC records and their RRSIGs below the apex: BIND still serves it signed (the
 * apex NSEC says so), but a denial of a name after the apex NSEC's span has no NSEC to prove it.
 */
export function withoutNsecBelowApex(signedText: string, zone: string): string {
  const apex = `${zone}.`.toLowerCase();
  return signedText
    .split('\n')
    .filter((line) => !/\sIN\s+(NSEC|RRSIG\s+NSEC)\s/.test(line) || line.split(/\s/)[0]!.toLowerCase() === apex)
    .join('\n');
}

/** The record lines of a key file (its comments dropped). */
function dataLines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';'));
}
