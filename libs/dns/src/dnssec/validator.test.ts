// The validator against signatures, key tags and DS digests made by BIND's dnssec-keygen, dnssec-signzone and
// dnssec-dsfromkey in a temp dir at test time (no key is committed).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsRecord } from '../wire.js';
import { dsMatchesKey } from './ds-digest.js';
import { keyTag } from './key-tag.js';
import { verifyRrset, verifyRrsetAsync, type SignedRrset } from './rrset.js';
import type { DnskeyData, DsData, RrsigData } from './types.js';
import { rrsigTime } from './validity.js';
import { validateZoneKeys } from './zone-keys.js';
import { dsData, signzoneRecord } from '../../testing/signzone-records.js';

const ZONE = 'ex.test';
const ALGORITHMS = { RSASHA256: 8, ECDSAP256SHA256: 13, ECDSAP384SHA384: 14, ED25519: 15 } as const;

interface Fixture {
  tag: number;
  records: DnsRecord[];
  ds: DsData[];
}

const dir = mkdtempSync(join(tmpdir(), 'certsmith-dnssec-'));
const fixtures = new Map<string, Fixture>();
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8' });

/** A `dnssec-dsfromkey` line (`<owner> IN DS <fields>`). */
const dsOf = (line: string): DsData => dsData(line.trim().split(/\s+/).slice(3));

function makeFixture(algorithm: string): Fixture {
  const size = algorithm === 'RSASHA256' ? ['-b', '2048'] : [];
  const base = run('dnssec-keygen', ['-q', '-K', dir, '-a', algorithm, ...size, '-f', 'KSK', '-n', 'ZONE', ZONE]).trim();
  const dnskey = readFileSync(join(dir, `${base}.key`), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .join('\n');
  const zone = `$TTL 300
${ZONE}.        IN SOA ns.${ZONE}. h.${ZONE}. 1 300 60 86400 60
${ZONE}.        IN NS  ns.${ZONE}.
${ZONE}.        IN MX  10 Mail.EX.Test.
ns.${ZONE}.     IN A   192.0.2.53
www.${ZONE}.    IN A   192.0.2.2
www.${ZONE}.    IN A   192.0.2.1
*.w.${ZONE}.    IN A   192.0.2.3
${dnskey}
`;
  const file = join(dir, `${algorithm}.zone`);
  writeFileSync(file, zone);
  run('dnssec-signzone', ['-P', '-z', '-O', 'full', '-K', dir, '-o', ZONE, '-f', `${file}.signed`, file, join(dir, base)]);
  const records = readFileSync(`${file}.signed`, 'utf8')
    .split('\n')
    .map(signzoneRecord)
    .filter((r): r is DnsRecord => r !== null);
  const keyFile = join(dir, `${base}.key`);
  const ds = [dsOf(run('dnssec-dsfromkey', ['-2', keyFile])), dsOf(run('dnssec-dsfromkey', ['-a', 'SHA-384', keyFile]))];
  return { tag: Number(/\+(\d+)$/.exec(base)![1]), records, ds };
}

const rrset = (f: Fixture, name: string, type: string): SignedRrset => ({
  name,
  type,
  records: f.records.filter((r) => r.name === name && r.type === type),
  signatures: f.records.filter((r) => r.name === name && r.type === 'RRSIG'),
});
const keysOf = (f: Fixture) => f.records.filter((r) => r.type === 'DNSKEY').map((r) => r.data as DnskeyData);
const now = () => new Date();

beforeAll(() => {
  for (const algorithm of Object.keys(ALGORITHMS)) fixtures.set(algorithm, makeFixture(algorithm));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(Object.entries(ALGORITHMS))('%s (algorithm %i) signed by dnssec-signzone', (algorithm, number) => {
  const f = () => fixtures.get(algorithm)!;

  // First in the file, so that no verdict over the same data is remembered yet: the thread-pool check really runs.
  it('verifies off the event loop as it does on it', async () => {
    const keys = keysOf(f());
    const www = rrset(f(), `www.${ZONE}`, 'A');
    expect(await verifyRrsetAsync(www, ZONE, keys, now())).toEqual({ status: 'secure' });
    const changed = { ...www, records: [www.records[0]!, { ...www.records[1]!, data: '192.0.2.98' }] };
    expect(await verifyRrsetAsync(changed, ZONE, keys, now())).toEqual({ status: 'bogus', reason: expect.stringMatching(/does not verify$/) });
  });

  it('computes the key tag dnssec-keygen gave the key', () => {
    const [key] = keysOf(f());
    expect(key!.algorithm).toBe(number);
    expect(keyTag(key!)).toBe(f().tag);
  });

  it('matches the SHA-256 and SHA-384 DS of dnssec-dsfromkey, and not a DS with one digest octet changed', () => {
    const [key] = keysOf(f());
    for (const ds of f().ds) expect(dsMatchesKey(ZONE, ds, key!)).toBe(true);
    const digest = Buffer.from(f().ds[0]!.digest);
    digest.writeUInt8(digest[0]! ^ 1, 0);
    expect(dsMatchesKey(ZONE, { ...f().ds[0]!, digest }, key!)).toBe(false);
  });

  it('authenticates the DNSKEY RRset from the DS, then an A RRset, an MX with an upper-case name, and a wildcard answer', () => {
    const zoneKeys = validateZoneKeys(ZONE, rrset(f(), ZONE, 'DNSKEY'), f().ds, now());
    expect(zoneKeys.verdict).toEqual({ status: 'secure' });
    const www = rrset(f(), `www.${ZONE}`, 'A');
    expect(www.records).toHaveLength(2);
    expect(verifyRrset({ ...www, records: [...www.records].reverse() }, ZONE, zoneKeys.keys, now())).toEqual({ status: 'secure' });
    expect(verifyRrset(rrset(f(), ZONE, 'MX'), ZONE, zoneKeys.keys, now())).toEqual({ status: 'secure' });
    const wildcard = rrset(f(), `*.w.${ZONE}`, 'A');
    const expanded = (r: DnsRecord) => ({ ...r, name: `host.w.${ZONE}` });
    const synthesized = { ...wildcard, name: `host.w.${ZONE}`, records: wildcard.records.map(expanded), signatures: wildcard.signatures.map(expanded) };
    expect(verifyRrset(synthesized, ZONE, zoneKeys.keys, now())).toEqual({ status: 'secure' });
  });

  it('is bogus when a record was changed, outside the validity window, or without RRSIG', () => {
    const keys = keysOf(f());
    const www = rrset(f(), `www.${ZONE}`, 'A');
    const changed = { ...www, records: [www.records[0]!, { ...www.records[1]!, data: '192.0.2.99' }] };
    expect(verifyRrset(changed, ZONE, keys, now())).toEqual({
      status: 'bogus',
      reason: expect.stringMatching(/^RRSIG over A \(key tag \d+\) does not verify$/),
    });
    const sig = www.signatures.find((s) => (s.data as RrsigData).typeCovered === 'A')!.data as RrsigData;
    const expiry = rrsigTime(sig.expiration, now());
    const after = new Date(expiry.getTime() + 1000);
    expect(verifyRrset(www, ZONE, keys, after)).toEqual({ status: 'bogus', reason: `RRSIG over A expired ${expiry.toISOString().replace('.000', '')}` });
    const before = new Date(rrsigTime(sig.inception, now()).getTime() - 1000);
    expect(verifyRrset(www, ZONE, keys, before)).toEqual({ status: 'bogus', reason: expect.stringMatching(/^RRSIG over A not valid before /) });
    expect(verifyRrset({ ...www, signatures: [] }, ZONE, keys, now())).toEqual({ status: 'bogus', reason: `no RRSIG over A by ${ZONE}` });
  });
});

describe('what the validator does not know or cannot match', () => {
  it('calls an RRSIG of an unknown algorithm unsupported (insecure), not bogus', () => {
    const f = fixtures.get('ECDSAP256SHA256')!;
    const www = rrset(f, `www.${ZONE}`, 'A');
    const unknown = www.signatures.map((s) => ({ ...s, data: { ...(s.data as RrsigData), algorithm: 253 } }));
    expect(verifyRrset({ ...www, signatures: unknown }, ZONE, keysOf(f), now())).toMatchObject({ status: 'unsupported' });
    const ds = f.ds.map((d) => ({ ...d, digestType: 1 }));
    expect(validateZoneKeys(ZONE, rrset(f, ZONE, 'DNSKEY'), ds, now()).verdict).toMatchObject({ status: 'unsupported' });
  });

  it('is bogus when the DS designates another key', () => {
    const other = fixtures.get('ED25519')!;
    const verdict = validateZoneKeys(ZONE, rrset(fixtures.get('ECDSAP256SHA256')!, ZONE, 'DNSKEY'), other.ds, now()).verdict;
    expect(verdict).toEqual({ status: 'bogus', reason: `no DNSKEY of ${ZONE} matches its DS (key tag ${other.tag}, ${other.tag})` });
  });

  it('reads 32-bit RRSIG times around now (serial arithmetic)', () => {
    const at = new Date('2106-03-01T00:00:00Z');
    expect(rrsigTime(0x10, at).toISOString()).toBe('2106-02-07T06:28:32.000Z');
    expect(rrsigTime(Date.UTC(2026, 11, 1) / 1000, new Date('2026-12-06T00:00:00Z')).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
});
