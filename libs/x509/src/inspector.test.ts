import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectContext, Resolution, Resolver, ServiceMaterial, SourceFile } from '@certsmith/core';
import { createCa, labDir, privateKey, run, selfSignedCert, type LabCa, type LabCert } from '@certsmith/testlab';
import { CertificateInspector, matchesProvider } from './inspector.js';
import { TrustStore } from './trust-store.js';

const NAME = 'www.example.test';
const DAY = 86_400_000;

function context(overrides: Partial<InspectContext['policy']> = {}, now = new Date(), names = [NAME]): InspectContext {
  return {
    target: { id: 'hostname', names, services: ['dovecot'], kind: 'hostname' },
    now,
    policy: { providerIssuerPatterns: [/Lab Provider CA/], providerThresholdDays: 25, otherThresholdDays: 3, caConfigured: true, live: false, ...overrides },
    signal: AbortSignal.timeout(20_000),
  };
}

function source(path: string, role: SourceFile['role'], text: string | Uint8Array): SourceFile {
  return { path, role, bytes: typeof text === 'string' ? Buffer.from(text) : text };
}

/** A service's files as an installer reads them: leaf (+chain) and key. */
function material(cert: LabCert, chainPem = '', keyPem = cert.keyPem): ServiceMaterial {
  return {
    service: 'dovecot',
    sources: [source('/ssl/dovecot/mydovecot.crt', 'certificate', cert.certPem + chainPem), source('/ssl/dovecot/mydovecot.key', 'key', keyPem)],
    endpoints: [],
  };
}

const codes = (defects: { code: string }[]) => defects.map((d) => d.code).sort();

describe('CertificateInspector: the offline rules', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let root: LabCa;
  let inter: LabCa;
  let provider: LabCa;
  let trust: TrustStore;
  let inspector: CertificateInspector;
  const certs: Record<string, LabCert> = {};
  beforeAll(async () => {
    dir = await labDir('inspect');
    root = await createCa(join(dir.path, 'root'), { cn: 'Lab Root CA' });
    inter = await root.intermediate('inter', { cn: 'Lab Intermediate CA' });
    provider = await root.intermediate('provider', { cn: 'Lab Provider CA' });
    const now = Date.now();
    const specs: [string, LabCa, Parameters<LabCa['issue']>[1]][] = [
      ['good', inter, {}],
      ['sha1', inter, { md: 'sha1' }],
      ['rsa1024', inter, { key: 'rsa-1024' }],
      ['nosan', inter, { san: null }],
      ['noeku', inter, { eku: null }],
      ['clientauth', inter, { eku: ['clientAuth'] }],
      ['expired', inter, { notBefore: new Date(now - 100 * DAY), notAfter: new Date(now - DAY) }],
      ['future', inter, { notBefore: new Date(now + 2 * DAY), notAfter: new Date(now + 92 * DAY) }],
      // Long lifetimes, so the cPanel thresholds apply (provider24 lives 60 days: 25 days before expiry is earlier
      // than a third); short and 45-day lifetimes renew by their own lifetime (core's renewal-timing tests).
      ['in2', inter, { notBefore: new Date(now - 88 * DAY), notAfter: new Date(now + 2 * DAY) }],
      ['in10', inter, { notBefore: new Date(now - 80 * DAY), notAfter: new Date(now + 10 * DAY) }],
      ['provider10', provider, { notBefore: new Date(now - 80 * DAY), notAfter: new Date(now + 10 * DAY) }],
      ['provider24', provider, { notBefore: new Date(now - 36 * DAY), notAfter: new Date(now + 24 * DAY) }],
      ['provider26', provider, { notBefore: new Date(now - 34 * DAY), notAfter: new Date(now + 26 * DAY) }],
      ['provider31', provider, { notBefore: new Date(now - 59 * DAY), notAfter: new Date(now + 31 * DAY) }],
      ['provider29', provider, { notBefore: new Date(now - 61 * DAY), notAfter: new Date(now + 29 * DAY) }],
      ['short6', provider, { notBefore: new Date(now - 2 * DAY), notAfter: new Date(now + 4 * DAY) }],
      ['short6half', provider, { notBefore: new Date(now - 3.5 * DAY), notAfter: new Date(now + 2.5 * DAY) }],
      ['fresh6', provider, { notBefore: new Date(now - 60_000), notAfter: new Date(now + 6 * DAY - 60_000) }],
      ['mid45', provider, { notBefore: new Date(now - 28 * DAY), notAfter: new Date(now + 17 * DAY) }],
      ['late45', provider, { notBefore: new Date(now - 31 * DAY), notAfter: new Date(now + 14 * DAY) }],
      ['othername', inter, { cn: 'other.example.test' }],
      ['wildcard', inter, { cn: '*.example.test' }],
    ];
    await Promise.all(
      specs.map(async ([name, ca, options]) => {
        certs[name] = await ca.issue(name, { cn: NAME, ...options });
      }),
    );
    certs.self = await selfSignedCert(join(dir.path, 'self'), 'self', { cn: NAME });
    trust = new TrustStore({ pems: [root.certPem] });
    inspector = new CertificateInspector(undefined, undefined, { trustStore: trust, revocation: null });
  });
  afterAll(() => dir?.cleanup());

  it('finds nothing wrong with a good certificate, its chain and its key', async () => {
    const result = await inspector.inspect(material(certs.good!, inter.certPem), context());
    expect(result.defects).toEqual([]);
    expect(result.summary).toMatchObject({
      commonName: NAME,
      names: [NAME],
      hasSan: true,
      key: 'EC P-256',
      signatureAlgorithm: 'ecdsa-with-SHA256',
      extendedKeyUsage: ['serverAuth'],
      selfSigned: false,
    });
    expect(result.summary!.issuer).toBe('CN=Lab Intermediate CA');
    expect(result.chain.map((c) => c.subject)).toEqual(['CN=Lab Intermediate CA']);
    expect(result.files).toEqual(['/ssl/dovecot/mydovecot.crt', '/ssl/dovecot/mydovecot.key']);
    expect(result.summary!.serial).toBe(certs.good!.serial.toLowerCase());
  });

  it.each([
    ['sha1', ['WEAK_SIGNATURE']],
    ['rsa1024', ['WEAK_KEY']],
    ['nosan', ['NAME_MISMATCH', 'NO_SAN']], // without a SAN the CN covers nothing (as browsers see it)
    ['noeku', ['NO_SERVER_AUTH_EKU']],
    ['clientauth', ['NO_SERVER_AUTH_EKU']],
    ['expired', ['EXPIRED']],
    ['future', ['NOT_YET_VALID']],
    ['in2', ['ALMOST_EXPIRED']],
    ['in10', []],
    ['provider10', ['ALMOST_EXPIRED']],
    ['provider24', ['ALMOST_EXPIRED']],
    ['provider26', []],
    ['provider31', []],
    ['provider29', ['ALMOST_EXPIRED']],
    ['short6', []],
    ['short6half', ['ALMOST_EXPIRED']],
    ['fresh6', []],
    ['mid45', []],
    ['late45', ['ALMOST_EXPIRED']],
    ['othername', ['NAME_MISMATCH']],
    ['wildcard', []],
  ])('%s → %j', async (name, expected) => {
    const ca = /^(provider|short|fresh|mid|late)/.test(name) ? provider : inter;
    const result = await inspector.inspect(material(certs[name]!, ca.certPem), context());
    expect(codes(result.defects)).toEqual(expected);
    for (const defect of result.defects) expect(defect.message.length).toBeGreaterThan(10);
    expect(result.providerIssued).toBe(ca === provider);
  });

  it('words expiry with the threshold that applied, and maps expiry to cPanel codes', async () => {
    const soon = await inspector.inspect(material(certs.provider24!, provider.certPem), context());
    expect(soon.defects[0]!.message).toMatch(/expires in 2[34]\.\d\d days, under the 25-day threshold for certificates from the configured provider/);
    const expired = await inspector.inspect(material(certs.expired!, inter.certPem), context());
    expect(expired.defects[0]).toMatchObject({
      code: 'EXPIRED',
      cpanel: 'OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED',
      severity: 'replace',
      path: '/ssl/dovecot/mydovecot.crt',
    });
    const custom = await inspector.inspect(material(certs.in10!, inter.certPem), context({ otherThresholdDays: 11 }));
    expect(codes(custom.defects)).toEqual(['ALMOST_EXPIRED']);
    expect(soon.defects[0]!.renewal).toMatchObject({ rule: 'threshold' });
  });

  it('words a lifetime-based renewal with the rule and the moment it became due', async () => {
    const half = await inspector.inspect(material(certs.short6half!, provider.certPem), context());
    expect(half.defects[0]!.message).toMatch(/expires in 2\.50 days: due for renewal since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, at half of its 6-day lifetime/);
    expect(half.defects[0]!.renewal).toMatchObject({ rule: 'lifetime' });
    const third = await inspector.inspect(material(certs.late45!, provider.certPem), context());
    expect(third.defects[0]!.message).toContain('at a third of its 45-day lifetime');
    const cpanel = await inspector.inspect(material(certs.provider29!, provider.certPem), context());
    expect(cpanel.defects[0]!.message).toMatch(/expires in 2[89]\.\d\d days: due for renewal since .*, at a third of its 90-day lifetime/);
  });

  it('reports a key file open to its group or every user, to be narrowed to 0600 in place (no new certificate)', async () => {
    const base = material(certs.good!, inter.certPem);
    const withMode = (mode: number): ServiceMaterial => ({ ...base, sources: base.sources.map((s) => (s.role === 'key' ? { ...s, mode } : s)) });
    const open = await inspector.inspect(withMode(0o644), context());
    expect(open.defects).toEqual([
      expect.objectContaining({
        code: 'KEY_PERMISSIONS',
        severity: 'warning',
        repair: { path: '/ssl/dovecot/mydovecot.key', mode: 0o600 },
        message: '/ssl/dovecot/mydovecot.key: the private key is open to its group and every user (mode 0644); it is narrowed to 0600 in place',
      }),
    ]);
    expect((await inspector.inspect(withMode(0o640), context())).defects[0]!.message).toContain('open to its group (mode 0640)');
    expect((await inspector.inspect(withMode(0o600), context())).defects).toEqual([]);
    expect((await inspector.inspect(withMode(0o400), context())).defects).toEqual([]);
  });

  it('matches provider patterns written without the DN escapes (CN=cPanel, Inc. ...)', async () => {
    const cpanelCa = await root.intermediate('cpanel-ca', { cn: 'cPanel, Inc. Certification Authority' });
    const cert = await cpanelCa.issue('cpanel-leaf', { cn: NAME, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 89 * DAY) });
    const result = await inspector.inspect(material(cert, cpanelCa.certPem), context({ providerIssuerPatterns: [/CN=cPanel, Inc\. Certification Authority/] }));
    expect(result.summary!.issuer).toBe('CN=cPanel\\, Inc. Certification Authority');
    expect(result.providerIssued).toBe(true);
    const escaped = await inspector.inspect(material(cert, cpanelCa.certPem), context({ providerIssuerPatterns: [/cPanel\\, Inc\./] }));
    expect(escaped.providerIssued).toBe(true);
    expect(matchesProvider([/O=cPanel, Inc\./], 'C=US, O=cPanel\\, Inc., CN=cPanel\\, Inc. Certification Authority')).toBe(true);
    expect(matchesProvider([/O=Other/], 'C=US, O=cPanel\\, Inc.')).toBe(false);
  });

  it('a still-valid CA-signed certificate near expiry is an upgrade (only a CA may replace it); a self-signed one is a replace', async () => {
    const provider10 = await inspector.inspect(material(certs.provider10!, provider.certPem), context());
    expect(provider10.defects).toEqual([expect.objectContaining({ code: 'ALMOST_EXPIRED', severity: 'upgrade' })]);
    const other2 = await inspector.inspect(material(certs.in2!, inter.certPem), context({ caConfigured: false }));
    expect(other2.defects).toEqual([expect.objectContaining({ code: 'ALMOST_EXPIRED', severity: 'upgrade' })]);
    const self = await selfSignedCert(join(dir.path, 'self-soon'), 'self-soon', { cn: NAME, days: 2 });
    const selfSoon = await inspector.inspect(material(self), context({ caConfigured: false }, new Date(Date.now() + DAY)));
    expect(selfSoon.defects.find((d) => d.code === 'ALMOST_EXPIRED')).toMatchObject({ severity: 'replace' });
    // Once expired, any issuer (the self-signed fallback included) may replace it.
    const expired = await inspector.inspect(material(certs.provider10!, provider.certPem), context({}, new Date(Date.now() + 11 * DAY)));
    expect(expired.defects.find((d) => d.code === 'EXPIRED')).toMatchObject({ severity: 'replace' });
  });

  it('reports a self-signed certificate as an upgrade when a CA is configured, a note otherwise', async () => {
    const withCa = await inspector.inspect(material(certs.self!), context());
    expect(withCa.defects).toEqual([
      expect.objectContaining({ code: 'SELF_SIGNED', cpanel: 'OPENSSL_VERIFY:0:18:DEPTH_ZERO_SELF_SIGNED_CERT', severity: 'upgrade' }),
    ]);
    const without = await inspector.inspect(material(certs.self!), context({ caConfigured: false }));
    expect(without.defects).toEqual([expect.objectContaining({ code: 'SELF_SIGNED', severity: 'info' })]);
    expect(without.summary!.selfSigned).toBe(true);
  });

  it('reports a key that does not belong to the certificate, and a missing key', async () => {
    const otherKey = await privateKey(join(dir.path, 'other.key'));
    const result = await inspector.inspect(material(certs.good!, inter.certPem, otherKey), context());
    expect(result.defects).toEqual([expect.objectContaining({ code: 'KEY_MISMATCH', severity: 'replace', path: '/ssl/dovecot/mydovecot.key' })]);
    const missing = await inspector.inspect(
      {
        service: 'dovecot',
        endpoints: [],
        sources: [source('/c.crt', 'certificate', certs.good!.certPem + inter.certPem), { path: '/c.key', role: 'key', error: 'missing', detail: 'ENOENT' }],
      },
      context(),
    );
    expect(codes(missing.defects)).toEqual(['MISSING_KEY:/c.key']);
  });

  it('reads a combined key+cert+chain file (cpanel, pure-ftpd) with the key anywhere, the server certificate first', async () => {
    for (const pem of [certs.good!.keyPem + certs.good!.certPem + inter.certPem, certs.good!.certPem + inter.certPem + certs.good!.keyPem]) {
      const result = await inspector.inspect({ service: 'ftp', endpoints: [], sources: [source('/ftp/pure-ftpd.pem', 'combined', pem)] }, context());
      expect(result.defects).toEqual([]);
      expect(result.summary!.commonName).toBe(NAME);
    }
  });

  it('reads DER files', async () => {
    const derFile = join(dir.path, 'good.der');
    expect((await run('openssl', ['x509', '-in', certs.good!.certFile, '-outform', 'DER', '-out', derFile])).code).toBe(0);
    const result = await inspector.inspect(
      {
        service: 'web',
        endpoints: [],
        sources: [
          source('/good.der', 'certificate', await readFile(derFile)),
          source('/chain.pem', 'chain', inter.certPem),
          source('/good.key', 'key', certs.good!.keyPem),
        ],
      },
      context(),
    );
    expect(result.defects).toEqual([]);
  });

  it('says NO_SSL when nothing is installed, MISSING_CERTIFICATE when only the certificate is gone', async () => {
    const none = await inspector.inspect(
      {
        service: 'exim',
        endpoints: [],
        sources: [
          { path: '/e.crt', role: 'certificate', error: 'missing', detail: 'ENOENT' },
          { path: '/e.key', role: 'key', error: 'missing', detail: 'ENOENT' },
        ],
      },
      context(),
    );
    expect(codes(none.defects)).toEqual(['NO_SSL']);
    expect(none.defects[0]!.message).toBe('No SSL certificate is installed.');
    const certGone = await inspector.inspect(
      {
        service: 'exim',
        endpoints: [],
        sources: [{ path: '/e.crt', role: 'certificate', error: 'missing', detail: 'ENOENT' }, source('/e.key', 'key', certs.good!.keyPem)],
      },
      context(),
    );
    expect(codes(certGone.defects)).toEqual(['MISSING_CERTIFICATE:/e.crt']);
  });

  it('checks the host name: valid DNS name, and (with a resolver) that it resolves', async () => {
    const invalid = await inspector.inspect(material(certs.good!, inter.certPem), context({}, new Date(), ['localhost']));
    expect(codes(invalid.defects)).toEqual(['INVALID_HOSTNAME', 'NAME_MISMATCH']);
    const answers: Record<string, Resolution['outcome'] | 'throw'> = {
      [NAME]: 'ok',
      'gone.example.test': 'nxdomain',
      'slow.example.test': 'timeout',
      'boom.example.test': 'throw',
    };
    const asked: string[] = [];
    const resolver: Resolver = {
      async resolveAddresses(name) {
        asked.push(name);
        const outcome = answers[name]!;
        if (outcome === 'throw') throw new Error('resolver exploded');
        const addresses = outcome === 'ok' ? ['127.0.0.2'] : [];
        return { name, outcome, addresses, chosen: addresses[0] ?? null, cnames: [], path: ['.'] };
      },
    };
    const withDns = new CertificateInspector(undefined, resolver, { trustStore: trust, revocation: null });
    const offline = await withDns.inspect(material(certs.wildcard!, inter.certPem), context({}, new Date(), ['gone.example.test']));
    expect(offline.defects).toEqual([]); // no network checks: nobody asked
    expect(asked).toEqual([]);
    const online = (names = [NAME]) => context({ live: true }, new Date(), names);
    const ok = await withDns.inspect(material(certs.good!, inter.certPem), online());
    expect(ok.defects).toEqual([]);
    const gone = await withDns.inspect(material(certs.wildcard!, inter.certPem), online(['gone.example.test']));
    expect(gone.defects).toEqual([expect.objectContaining({ code: 'HOSTNAME_DOES_NOT_RESOLVE', severity: 'warning' })]);
    const slow = await withDns.inspect(material(certs.wildcard!, inter.certPem), online(['slow.example.test']));
    expect(slow.defects).toEqual([expect.objectContaining({ code: 'HOSTNAME_RESOLUTION_FAILED', severity: 'warning' })]);
    const boom = await withDns.inspect(material(certs.wildcard!, inter.certPem), online(['boom.example.test']));
    expect(boom.defects[0]!.message).toContain('resolver exploded');
    await withDns.inspect(material(certs.good!, inter.certPem), online());
    expect(asked.filter((n) => n === NAME)).toHaveLength(1); // one question per name and run
  });

  it('reads key type and size from the DER as node sees them', async () => {
    const p384 = await inter.issue('p384', { cn: NAME, key: 'ec-p384' });
    const rsa2048 = await inter.issue('rsa2048', { cn: NAME, key: 'rsa-2048' });
    for (const cert of [certs.good!, certs.rsa1024!, p384, rsa2048]) {
      const x = new X509Certificate(cert.certPem);
      const details = x.publicKey.asymmetricKeyDetails!;
      const expected =
        x.publicKey.asymmetricKeyType === 'rsa'
          ? `RSA ${details.modulusLength}`
          : `EC ${{ prime256v1: 'P-256', secp384r1: 'P-384' }[details.namedCurve as string]}`;
      expect(inspector.summarize(cert.certPem).key).toBe(expected);
    }
    expect(inspector.summarize(rsa2048.certPem).key).toBe('RSA 2048');
    // The key check's fast path (public key inside the key file) and its fallback agree for RSA and EC.
    const rsaResult = await inspector.inspect(material(rsa2048, inter.certPem), context());
    expect(rsaResult.defects).toEqual([]);
    const swapped = await inspector.inspect(material(rsa2048, inter.certPem, certs.rsa1024!.keyPem), context());
    expect(swapped.defects.map((d) => d.code)).toEqual(['KEY_MISMATCH']);
  });

  it('summarize() and verifyIssued() work on PEM text', () => {
    expect(inspector.summarize(certs.good!.certPem).commonName).toBe(NAME);
    expect(() => inspector.summarize('nothing here')).toThrow(/no PEM certificate/);
    const issued = {
      certificatePem: certs.good!.certPem,
      chainPem: [inter.certPem],
      keyPem: certs.good!.keyPem,
      summary: inspector.summarize(certs.good!.certPem),
      issuerId: 'x',
      selfSigned: false,
    };
    expect(inspector.verifyIssued(issued, [NAME], new Date())).toEqual([]);
    expect(codes(inspector.verifyIssued(issued, ['nope.example.test'], new Date()))).toEqual(['NAME_MISMATCH']);
  });
});

describe('CertificateInspector: the chain to the trust store, as openssl verify sees it', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let root: LabCa;
  let inter: LabCa;
  let shortInter: LabCa;
  let leaf: LabCert;
  let shortLeaf: LabCert;
  beforeAll(async () => {
    dir = await labDir('chain');
    root = await createCa(join(dir.path, 'root'), { cn: 'Chain Root CA' });
    inter = await root.intermediate('inter', { cn: 'Chain Intermediate CA' });
    shortInter = await root.intermediate('short', { cn: 'Short-lived Intermediate CA', days: 2 });
    leaf = await inter.issue('leaf', { cn: NAME });
    shortLeaf = await shortInter.issue('short-leaf', { cn: NAME, days: 60 });
  });
  afterAll(() => dir?.cleanup());

  /** `openssl verify`'s first error as OPENSSL_VERIFY:<depth>:<code>:<NAME>, for comparison. */
  async function opensslVerify(trusted: string, untrusted: string, cert: LabCert, attime?: Date): Promise<string | null> {
    const files = { trusted: join(dir.path, 'trusted.pem'), untrusted: join(dir.path, 'untrusted.pem') };
    await writeFile(files.trusted, trusted);
    await writeFile(files.untrusted, untrusted || '\n');
    const args = [
      'verify',
      '-CAfile',
      files.trusted,
      ...(untrusted ? ['-untrusted', files.untrusted] : []),
      ...(attime ? ['-attime', String(Math.floor(attime.getTime() / 1000))] : []),
      cert.certFile,
    ];
    const result = await run('openssl', args);
    const match = /error (\d+) at (\d+) depth lookup: /.exec(result.stdout + result.stderr);
    return match ? `${match[2]}:${match[1]}` : null;
  }

  async function ours(trusted: string, chain: string, cert: LabCert, now = new Date(), caConfigured = true) {
    const inspector = new CertificateInspector(undefined, undefined, { trustStore: new TrustStore({ pems: [trusted] }), revocation: null });
    const result = await inspector.inspect(material(cert, chain), context({ caConfigured }, now));
    return result.defects;
  }

  it.each([
    ['the intermediate is missing from the files', 'missing'],
    ['the root is sent but not trusted', 'untrusted-root'],
    ['a different root is trusted', 'other-root'],
  ])('%s', async (_label, kind) => {
    const other = await createCa(join(dir.path, `other-${kind}`), { cn: 'Unrelated Root' });
    const trusted = kind === 'missing' ? root.certPem : other.certPem;
    const chain = kind === 'missing' ? '' : kind === 'untrusted-root' ? inter.certPem + root.certPem : inter.certPem;
    const expected = await opensslVerify(trusted, chain, leaf);
    expect(expected).not.toBeNull();
    const defects = await ours(trusted, chain, leaf);
    const verify = defects.filter((d) => d.code.startsWith('OPENSSL_VERIFY:'));
    expect(verify).toHaveLength(1);
    expect(verify[0]!.code.split(':').slice(1, 3).join(':')).toBe(expected);
    expect(verify[0]!.severity).toBe('upgrade');
    expect((await ours(trusted, chain, leaf, new Date(), false)).find((d) => d.code.startsWith('OPENSSL_VERIFY'))!.severity).toBe('warning');
  });

  it('names an expired intermediate at depth 1 and warns about one that expires soon', async () => {
    const later = new Date(Date.now() + 5 * DAY);
    expect(await opensslVerify(root.certPem, shortInter.certPem, shortLeaf, later)).toBe('1:10');
    expect(codes(await ours(root.certPem, shortInter.certPem, shortLeaf, later))).toEqual(['OPENSSL_VERIFY:1:10:CERT_HAS_EXPIRED']);
    const soon = await ours(root.certPem, shortInter.certPem, shortLeaf);
    // The chain still verifies: only a CA-signed certificate may replace it until it expires (then it is 'replace').
    expect(soon).toEqual([expect.objectContaining({ code: 'CA_CERTIFICATE_ALMOST_EXPIRED', severity: 'upgrade' })]);
    expect(soon[0]!.message).toContain('Short-lived Intermediate CA');
  });

  it("only warns when the configured provider's own chain does not verify (ordering again cannot fix it)", async () => {
    const inspector = new CertificateInspector(undefined, undefined, { trustStore: new TrustStore({ pems: [shortInter.certPem] }), revocation: null });
    const result = await inspector.inspect(material(leaf, inter.certPem), {
      ...context(),
      policy: { ...context().policy, providerIssuerPatterns: [/Chain Intermediate CA/] },
    });
    expect(result.defects).toEqual([expect.objectContaining({ code: 'OPENSSL_VERIFY:1:20:UNABLE_TO_GET_ISSUER_CERT_LOCALLY', severity: 'warning' })]);
  });

  it('accepts the chain openssl accepts', async () => {
    expect(await opensslVerify(root.certPem, inter.certPem, leaf)).toBeNull();
    expect(await ours(root.certPem, inter.certPem, leaf)).toEqual([]);
  });
});
