// Bad input never escapes the inspection as an exception: every case is a defect naming the file.
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectContext, ServiceMaterial, SourceFile } from '@certsmith/core';
import { createCa, labDir, type LabCa, type LabCert } from '@certsmith/testlab';
import { parseCertificate } from './certificate.js';
import { CertificateInspector } from './inspector.js';
import { parsePem } from './pem.js';
import { TrustStore } from './trust-store.js';

const NAME = 'www.example.test';
const CERT = '/ssl/exim/myexim.crt';
const KEY = '/ssl/exim/myexim.key';

function ctx(): InspectContext {
  return {
    target: { id: 'hostname', names: [NAME], services: ['exim'], kind: 'hostname' },
    now: new Date(),
    policy: { providerIssuerPatterns: [], providerThresholdDays: 25, otherThresholdDays: 3, caConfigured: true, live: false },
    signal: AbortSignal.timeout(10_000),
  };
}

function material(certBytes: Uint8Array | string, keyPem: string): ServiceMaterial {
  const sources: SourceFile[] = [
    { path: CERT, role: 'certificate', bytes: typeof certBytes === 'string' ? Buffer.from(certBytes) : certBytes },
    { path: KEY, role: 'key', bytes: Buffer.from(keyPem) },
  ];
  return { service: 'exim', sources, endpoints: [] };
}

/** A deterministic PRNG (mulberry32), so that a failing fuzz case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('bad input', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let ca: LabCa;
  let leaf: LabCert;
  let der: Buffer;
  let inspector: CertificateInspector;
  beforeAll(async () => {
    dir = await labDir('bad-input');
    ca = await createCa(join(dir.path, 'ca'));
    leaf = await ca.issue('leaf', { cn: NAME });
    der = Buffer.from(new X509Certificate(leaf.certPem).raw);
    inspector = new CertificateInspector(undefined, undefined, { trustStore: new TrustStore({ pems: [ca.certPem] }), revocation: null });
  });
  afterAll(() => dir?.cleanup());

  async function defectsFor(bytes: Uint8Array | string) {
    const result = await inspector.inspect(material(bytes, leaf.keyPem), ctx());
    expect(result.summary).toBeNull();
    return result.defects;
  }

  it.each([
    ['garbage PEM', () => '-----BEGIN CERTIFICATE-----\nthis is not base64 !!!\n-----END CERTIFICATE-----\n', /damaged|no certificate/],
    [
      'PEM with valid base64 of garbage',
      () => `-----BEGIN CERTIFICATE-----\n${Buffer.from('hello world, not DER').toString('base64')}\n-----END CERTIFICATE-----\n`,
      /cannot be parsed/,
    ],
    ['truncated DER', () => der.subarray(0, der.length - 40), /cannot be parsed/],
    ['truncated PEM', () => leaf.certPem.slice(0, 200), /no certificate|neither/],
    ['a private key where the certificate should be', () => leaf.keyPem, /holds a private key/],
    ['a DER private key where the certificate should be', () => parsePem(leaf.keyPem)[0]!.der, /private key, not a certificate/],
    ['a 10 MiB file', () => Buffer.alloc(10 * 1024 * 1024, 0x41), /too large/],
    ['non-UTF-8 bytes', () => Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x80, 0x00, 0x9f]), /neither PEM nor DER/],
    [
      'a CSR where the certificate should be',
      () => '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n',
      /holds CERTIFICATE REQUEST/,
    ],
  ])('%s → INVALID_CERTIFICATE with the path', async (_label, bytes, message) => {
    const defects = await defectsFor(bytes());
    expect(defects.map((d) => d.code)).toEqual([`INVALID_CERTIFICATE:${CERT}`]);
    expect(defects[0]).toMatchObject({ severity: 'replace', path: CERT });
    expect(defects[0]!.message).toMatch(message);
    expect(defects[0]!.message.startsWith(CERT)).toBe(true);
  });

  it('an empty or blank file → EMPTY_CERTIFICATE with the path', async () => {
    expect((await defectsFor('')).map((d) => d.code)).toEqual([`EMPTY_CERTIFICATE:${CERT}`]);
    expect((await defectsFor(' \n\r\n\t')).map((d) => d.code)).toEqual([`EMPTY_CERTIFICATE:${CERT}`]);
  });

  it('a PEM with 500 certificates → INVALID_CERTIFICATE, quickly', async () => {
    const defects = await defectsFor(leaf.certPem.repeat(500));
    expect(defects.map((d) => d.code)).toEqual([`INVALID_CERTIFICATE:${CERT}`]);
    expect(defects[0]!.message).toContain('500 certificates');
  });

  it('a file of unterminated BEGIN lines stays linear (no regex blow-up)', async () => {
    const text = '-----BEGIN CERTIFICATE-----\nAAAA\n'.repeat(30_000);
    expect(text.length).toBeLessThan(1024 * 1024);
    expect(parsePem(text)).toEqual([]);
    expect((await defectsFor(text)).map((d) => d.code)).toEqual([`INVALID_CERTIFICATE:${CERT}`]);
  });

  it('an unreadable key file and a damaged key → INVALID_KEY with the path', async () => {
    const damaged = await inspector.inspect(material(leaf.certPem, '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'), ctx());
    expect(damaged.defects.map((d) => d.code)).toEqual([`INVALID_KEY:${KEY}`]);
    const unreadable = await inspector.inspect(
      {
        service: 'exim',
        endpoints: [],
        sources: [
          { path: CERT, role: 'certificate', bytes: Buffer.from(leaf.certPem) },
          { path: KEY, role: 'key', error: 'unreadable', detail: 'EACCES' },
        ],
      },
      ctx(),
    );
    expect(unreadable.defects.map((d) => d.code)).toEqual([`INVALID_KEY:${KEY}`]);
  });

  it('a key file that is not a key (text, a certificate) → INVALID_KEY naming what it holds, not MISSING_KEY', async () => {
    const text = await inspector.inspect(material(leaf.certPem, 'this is not a key\n'), ctx());
    expect(text.defects.map((d) => [d.code, d.message])).toEqual([[`INVALID_KEY:${KEY}`, `${KEY}: no private key can be read (neither PEM nor DER)`]]);
    const cert = await inspector.inspect(material(leaf.certPem, leaf.certPem), ctx());
    expect(cert.defects.map((d) => [d.code, d.message])).toEqual([[`INVALID_KEY:${KEY}`, `${KEY}: no private key can be read (it holds CERTIFICATE)`]]);
  });

  it('fuzz: random and mutated DER through the parser and the inspector never throws', async () => {
    const random = prng(20261125);
    const pick = (n: number) => Math.floor(random() * n);
    const cases: Buffer[] = [];
    for (let i = 0; i < 300; i++) cases.push(Buffer.from(Array.from({ length: pick(2000) }, () => pick(256))));
    for (let i = 0; i < 1000; i++) {
      const mutated = Buffer.from(der);
      const kind = i % 5;
      if (kind === 0) for (let j = 0; j < 1 + pick(8); j++) mutated[pick(mutated.length)]! ^= 1 << pick(8); // bit flips
      if (kind === 1) mutated[pick(Math.min(12, mutated.length))] = pick(256); // damaged headers and lengths
      if (kind === 2) cases.push(mutated.subarray(0, pick(mutated.length))); // truncation
      if (kind === 3) {
        const at = pick(mutated.length);
        cases.push(Buffer.concat([mutated.subarray(0, at), Buffer.from([pick(256), pick(256)]), mutated.subarray(at)])); // insertion
      }
      if (kind === 4) mutated.fill(pick(256), pick(mutated.length), pick(mutated.length)); // a run of one byte
      if (kind !== 2 && kind !== 3) cases.push(mutated);
    }
    const original = parseCertificate(der).summary.fingerprint;
    let parsed = 0;
    for (const bytes of cases) {
      try {
        parseCertificate(bytes);
        parsed++;
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
      }
      const asDer = await inspector.inspect(material(bytes, leaf.keyPem), ctx());
      const asPem = await inspector.inspect(
        material(`-----BEGIN CERTIFICATE-----\n${bytes.toString('base64')}\n-----END CERTIFICATE-----\n`, leaf.keyPem),
        ctx(),
      );
      for (const result of [asDer, asPem]) {
        const unchanged = result.summary?.fingerprint === original;
        expect(result.defects.length > 0 || unchanged, 'a changed certificate is always a finding').toBe(true);
        expect(
          result.defects.every((d) => d.code !== 'INSPECTION_FAILED'),
          JSON.stringify(result.defects),
        ).toBe(true);
      }
    }
    // Some bit flips land in the signature or a name and still parse: the rules then judge them.
    expect(parsed).toBeGreaterThan(0);
    expect(parsed).toBeLessThan(cases.length);
  });
});
