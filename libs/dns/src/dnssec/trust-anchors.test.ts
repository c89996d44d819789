import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IANA_ROOT_TRUST_ANCHORS, parseTrustAnchors, readTrustAnchors } from './trust-anchors.js';

describe('parseTrustAnchors', () => {
  it('reads root DS lines with and without TTL and class, skipping comments', () => {
    const text = `; the root's KSKs
. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
.  172800  IN  DS  38696 8 2 683D2D0ACB8C9B712A1948B27F741219 298D0A450D612C483AF444A4C0FB2B16
`;
    expect(parseTrustAnchors(text)).toEqual(IANA_ROOT_TRUST_ANCHORS);
  });

  it('reads a root KSK DNSKEY as the DS dnssec-dsfromkey computes for it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certsmith-anchor-'));
    try {
      const base = execFileSync('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', '.'], { encoding: 'utf8' }).trim();
      const keyFile = join(dir, `${base}.key`);
      const dnskey = readFileSync(keyFile, 'utf8');
      const ds = execFileSync('dnssec-dsfromkey', ['-2', keyFile], { encoding: 'utf8' }).trim().split(/\s+/);
      const [keyTag, algorithm, digestType, digest] = ds.slice(3);
      expect(parseTrustAnchors(dnskey)).toEqual([
        { keyTag: Number(keyTag), algorithm: Number(algorithm), digestType: Number(digestType), digest: Buffer.from(digest!, 'hex') },
      ]);
      // A zone-signing key (flags 256) is no anchor.
      expect(() => parseTrustAnchors(dnskey.replace(/DNSKEY\s+257/, 'DNSKEY 256'))).toThrow(/not a DS or DNSKEY record of the root/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a DS of another zone, odd hex and an empty file', () => {
    expect(() => parseTrustAnchors('com. IN DS 1 8 2 AB')).toThrow(/line 1: not a DS or DNSKEY record of the root/);
    expect(() => parseTrustAnchors('. IN DS 1 8 2 ABC')).toThrow(/line 1/);
    expect(() => parseTrustAnchors('; nothing\n')).toThrow(/no trust anchor in it/);
  });

  it('names the file in a UsageError with code DNSSEC_TRUST_ANCHOR_INVALID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certsmith-anchor-'));
    try {
      const file = join(dir, 'root.ds');
      writeFileSync(file, '-----BEGIN CERTIFICATE-----\n');
      expect(() => readTrustAnchors(file)).toThrow(expect.objectContaining({ name: 'UsageError', code: 'DNSSEC_TRUST_ANCHOR_INVALID' }));
      expect(() => readTrustAnchors(file)).toThrow(`${file}: line 1: not a DS or DNSKEY record of the root`);
      expect(() => readTrustAnchors(join(dir, 'missing'))).toThrow(`${join(dir, 'missing')}: cannot be read (ENOENT)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
