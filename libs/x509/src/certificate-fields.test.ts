import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFast, parseWithOpenSsl, type ParsedCertificate } from './certificate.js';
import { parsePem } from './pem.js';
import { SYSTEM_BUNDLE } from './trust-store.js';

const dir = mkdtempSync(join(tmpdir(), 'certificate-fields-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function view(p: ParsedCertificate) {
  return {
    summary: p.summary,
    notBefore: p.notBefore.getTime(),
    notAfter: p.notAfter.getTime(),
    dnsNames: p.dnsNames,
    ca: p.ca,
    subjectName: p.subjectName,
    issuerName: p.issuerName,
    hasOcsp: p.hasOcsp,
  };
}

/** The DER reader must say exactly what OpenSSL says, or nothing (null: OpenSSL then parses the certificate). */
function compare(der: Buffer): 'fast' | 'fallback' {
  const fingerprint = createHash('sha256').update(der).digest('hex');
  const slow = parseWithOpenSsl(der, fingerprint);
  const fast = parseFast(der, fingerprint);
  if (!fast) return 'fallback';
  expect(view(fast)).toEqual(view(slow));
  return 'fast';
}

let serial = 1;
/** A certificate made by the openssl command line: `args` go to `openssl req -x509`, `ext` lines to -addext. */
function openssl(keyAlgorithm: string[], subject: string, ext: string[], extra: string[] = []): Buffer {
  const key = join(dir, `k${serial}.pem`);
  const crt = join(dir, `c${serial}.pem`);
  execFileSync('openssl', ['genpkey', ...keyAlgorithm, '-out', key], { stdio: 'ignore' });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-subj',
      subject,
      '-utf8',
      '-set_serial',
      String(serial++),
      '-days',
      '30',
      ...ext.flatMap((e) => ['-addext', e]),
      ...extra,
      '-out',
      crt,
    ],
    { stdio: 'ignore' },
  );
  return parsePem(readFileSync(crt, 'latin1'))[0]!.der;
}

const EC = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

describe('the DER reader against OpenSSL', () => {
  it('agrees on every certificate of the system trust store it reads, and reads most of them', () => {
    const certificates = parsePem(readFileSync(SYSTEM_BUNDLE, 'latin1')).filter((b) => b.label === 'CERTIFICATE');
    expect(certificates.length).toBeGreaterThan(50);
    const outcomes = certificates.map((b) => compare(b.der));
    // Roots with commas, multi-valued RDNs or non-ASCII names fall back; the plain majority must not.
    expect(outcomes.filter((o) => o === 'fast').length).toBeGreaterThan(certificates.length / 2);
  });

  it('reads a usual server certificate (EC and RSA, DNS and IP names, EKU, OCSP) itself, and agrees', () => {
    const common = [
      'subjectAltName=DNS:www.example.test,DNS:*.example.test,IP:127.0.0.1,IP:::1',
      'extendedKeyUsage=serverAuth,clientAuth',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'authorityInfoAccess=OCSP;URI:http://127.0.0.1/ocsp',
    ];
    expect(compare(openssl(EC, '/CN=www.example.test/O=Example/C=DE', common))).toBe('fast');
    expect(compare(openssl(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], '/CN=www.example.test', common))).toBe('fast');
    expect(
      compare(openssl(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], '/CN=a.test/emailAddress=ssl@a.test', ['subjectAltName=DNS:a.test'])),
    ).toBe('fast');
    expect(compare(openssl(EC, '/CN=ca.test', ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign']))).toBe('fast');
  });

  it('reads a certificate without SAN or EKU and one whose key usage forbids certificate signing', () => {
    expect(compare(openssl(EC, '/CN=plain.test', []))).toBe('fast');
    expect(compare(openssl(EC, '/CN=not-ca.test', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature']))).toBe('fast');
  });

  it('agrees with OpenSSL on dates after 2049 (GeneralizedTime)', () => {
    expect(compare(openssl(EC, '/CN=long.test', ['subjectAltName=DNS:long.test'], ['-days', '12000']))).toBe('fast');
  });

  it('leaves to OpenSSL the names that need its escaping or string conversion', () => {
    for (const [key, subject, ext] of [
      [EC, '/CN=comma, inc.test', []],
      [EC, '/CN=müller.test', []],
      [EC, '/CN=a.test+O=multi', []],
      [EC, '/CN=mail.test', ['subjectAltName=email:a@mail.test']],
    ] as [string[], string, string[]][]) {
      expect(compare(openssl(key, subject, ext)), subject).toBe('fallback');
    }
  });

  it('asks OpenSSL for the self-signature of keys it does not import itself (Ed25519, RSA-PSS), and agrees', () => {
    for (const [key, name] of [
      [['-algorithm', 'ED25519'], 'ed.test'],
      [['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'], 'pss.test'],
    ] as [string[], string][]) {
      const der = openssl(key, `/CN=${name}`, [`subjectAltName=DNS:${name}`]);
      compare(der);
      expect(parseFast(der, 'x')?.summary.selfSigned, name).toBe(true);
    }
  });

  it('says not self-signed when the name matches but another key signed it', () => {
    const caKey = join(dir, 'other-ca.key');
    execFileSync('openssl', ['genpkey', ...EC, '-out', caKey], { stdio: 'ignore' });
    const leafKey = join(dir, 'same-name.key');
    execFileSync('openssl', ['genpkey', ...EC, '-out', leafKey], { stdio: 'ignore' });
    const csr = join(dir, 'same-name.csr');
    execFileSync('openssl', ['req', '-new', '-key', leafKey, '-subj', '/CN=same.test', '-out', csr], { stdio: 'ignore' });
    const ca = join(dir, 'other-ca.crt');
    execFileSync('openssl', ['req', '-x509', '-new', '-key', caKey, '-subj', '/CN=same.test', '-days', '30', '-out', ca], { stdio: 'ignore' });
    const ext = join(dir, 'same-name.ext');
    writeFileSync(ext, 'subjectAltName=DNS:same.test\n');
    const crt = join(dir, 'same-name.crt');
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-set_serial', '77', '-days', '30', '-extfile', ext, '-out', crt], {
      stdio: 'ignore',
    });
    const der = parsePem(readFileSync(crt, 'latin1'))[0]!.der;
    expect(compare(der)).toBe('fast');
    expect(parseFast(der, 'x')!.summary.selfSigned).toBe(false);
  });

  it('fuzz: a damaged certificate is read here only if OpenSSL reads it too, and then with the same fields', () => {
    // mulberry32: seeded, so a failure reproduces.
    let seed = 20261125;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = (n: number) => Math.floor(random() * n);
    const originals = [
      openssl(EC, '/CN=leaf.test/O=Org', ['subjectAltName=DNS:leaf.test', 'extendedKeyUsage=serverAuth', 'authorityInfoAccess=OCSP;URI:http://127.0.0.1/']),
      openssl(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], '/CN=leaf.test', [
        'subjectAltName=DNS:leaf.test,IP:::1',
        'basicConstraints=critical,CA:TRUE,pathlen:1',
        'keyUsage=keyCertSign',
      ]),
    ];
    let readHere = 0;
    for (const der of originals) {
      for (let i = 0; i < 2500; i++) {
        let bytes = Buffer.from(der);
        const kind = i % 5;
        if (kind === 0) for (let j = 0; j < 1 + pick(4); j++) bytes[pick(bytes.length)]! ^= 1 << pick(8);
        if (kind === 1) bytes[pick(bytes.length)] = pick(256);
        if (kind === 2) bytes = bytes.subarray(0, pick(bytes.length));
        if (kind === 3) {
          const at = pick(bytes.length);
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([pick(256), pick(256)]), bytes.subarray(at)]);
        }
        if (kind === 4) bytes.fill(pick(256), pick(bytes.length), pick(bytes.length));
        let fast: ParsedCertificate | null = null;
        try {
          fast = parseFast(bytes, 'x');
        } catch {
          fast = null; // OpenSSL refused it in the fallback, as parseCertificate would
        }
        if (!fast) continue;
        readHere++;
        expect(() => new X509Certificate(bytes), `read here but not by OpenSSL: ${bytes.toString('base64')}`).not.toThrow();
        expect(view(fast)).toEqual(view(parseWithOpenSsl(bytes, 'x')));
      }
    }
    expect(readHere).toBeGreaterThan(1000); // bit flips in names, dates and signatures still parse
  });
});
