// The X.509 rules through the inspector, on certificates from the testlab's openssl CAs.
import { X509Certificate, createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectContext, ServiceMaterial, SourceFile } from '@certsmith/core';
import { createCa, freePort, labDir, mustRun, randomLoopback, startOcspResponder, type LabCa, type LabCert, type OcspResponder } from '@certsmith/testlab';
import { parseFast, parseWithOpenSsl } from './certificate.js';
import { CertificateInspector } from './inspector.js';
import { parsePem } from './pem.js';
import { RevocationChecker } from './revocation.js';
import { TrustStore } from './trust-store.js';

const NAME = 'www.example.test';

function context(live = false, now = new Date()): InspectContext {
  return {
    target: { id: 'hostname', names: [NAME], services: ['dovecot'], kind: 'hostname' },
    now,
    policy: { providerIssuerPatterns: [], providerThresholdDays: 25, otherThresholdDays: 3, caConfigured: true, live },
    signal: AbortSignal.timeout(20_000),
  };
}

const source = (path: string, role: SourceFile['role'], text: string): SourceFile => ({ path, role, bytes: Buffer.from(text) });

function material(certificateFile: string, key: string, chainFile?: string): ServiceMaterial {
  const sources = [source('/ssl/d.crt', 'certificate', certificateFile), source('/ssl/d.key', 'key', key)];
  if (chainFile !== undefined) sources.push(source('/ssl/d.cabundle', 'chain', chainFile));
  return { service: 'dovecot', endpoints: [], sources };
}

const codes = (defects: { code: string }[]) => defects.map((d) => d.code).sort();

describe('X.509 rules through the inspector', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let root: LabCa;
  let inter: LabCa;
  let inspector: CertificateInspector;
  const certs: Record<string, LabCert> = {};

  beforeAll(async () => {
    dir = await labDir('x509-rules');
    root = await createCa(join(dir.path, 'root'), { cn: 'Rules Root CA' });
    inter = await root.intermediate('inter', { cn: 'Rules Intermediate CA' });
    certs.empty = await inter.issue('empty', { cn: NAME, emptySubject: true });
    certs.good = await inter.issue('good', { cn: NAME });
    certs.anyEku = await inter.issue('any', { cn: NAME, eku: ['anyExtendedKeyUsage'] });
    certs.serverAndAny = await inter.issue('server-any', { cn: NAME, eku: ['serverAuth', 'anyExtendedKeyUsage'] });
    inspector = new CertificateInspector(undefined, undefined, { trustStore: new TrustStore({ pems: [root.certPem] }), revocation: null });
  });
  afterAll(() => dir?.cleanup());

  it('takes a certificate with an empty subject and the names in a critical SAN as healthy', async () => {
    const result = await inspector.inspect(material(certs.empty!.certPem + inter.certPem, certs.empty!.keyPem), context());
    expect(result.defects).toEqual([]);
    expect(result.summary).toMatchObject({ subject: '(empty subject)', commonName: null, names: [NAME], selfSigned: false });
    expect(inspector.summarize(certs.empty!.certPem).subject).toBe('(empty subject)');
    const issued = {
      certificatePem: certs.empty!.certPem,
      chainPem: [inter.certPem],
      keyPem: certs.empty!.keyPem,
      summary: result.summary!,
      issuerId: 'lab',
      selfSigned: false,
    };
    expect(inspector.verifyIssued(issued, [NAME], new Date())).toEqual([]);
  });

  it('reads an empty subject the same way on the DER path and the OpenSSL path', () => {
    const der = parsePem(certs.empty!.certPem)[0]!.der;
    const fingerprint = createHash('sha256').update(der).digest('hex');
    const fast = parseFast(der, fingerprint);
    expect(fast).not.toBeNull();
    expect(fast!.summary).toEqual(parseWithOpenSsl(der, fingerprint).summary);
  });

  it('reports a certificate file in reverse order (the CA first) instead of inspecting the server certificate behind it', async () => {
    const result = await inspector.inspect(material(inter.certPem + certs.good!.certPem, certs.good!.keyPem), context());
    expect(codes(result.defects)).toEqual(['WRONG_CERTIFICATE_ORDER:/ssl/d.crt']);
    expect(result.defects[0]).toMatchObject({ severity: 'replace', message: expect.stringContaining('must come first') });
    expect(result.summary!.subject).toBe('CN=Rules Intermediate CA');
  });

  it('names a certificate file that holds only a CA certificate, once', async () => {
    const result = await inspector.inspect(material(inter.certPem, certs.good!.keyPem), context());
    expect(result.defects).toEqual([
      expect.objectContaining({ code: 'INVALID_CERTIFICATE:/ssl/d.crt', severity: 'replace', message: expect.stringContaining('only CA certificates') }),
    ]);
  });

  it('does not take anyExtendedKeyUsage for serverAuth, and refuses it beside serverAuth', async () => {
    const anyOnly = await inspector.inspect(material(certs.anyEku!.certPem + inter.certPem, certs.anyEku!.keyPem), context());
    expect(codes(anyOnly.defects)).toEqual(['ANY_EXTENDED_KEY_USAGE', 'NO_SERVER_AUTH_EKU']);
    const both = await inspector.inspect(material(certs.serverAndAny!.certPem + inter.certPem, certs.serverAndAny!.keyPem), context());
    expect(codes(both.defects)).toEqual(['ANY_EXTENDED_KEY_USAGE']);
  });

  it('holds a certificate valid during its notAfter second and expired one second later', async () => {
    const notAfter = new Date(new X509Certificate(certs.good!.certPem).validTo);
    const at = await inspector.inspect(material(certs.good!.certPem + inter.certPem, certs.good!.keyPem), context(false, notAfter));
    expect(codes(at.defects)).toEqual(['ALMOST_EXPIRED']);
    const after = await inspector.inspect(
      material(certs.good!.certPem + inter.certPem, certs.good!.keyPem),
      context(false, new Date(notAfter.getTime() + 1000)),
    );
    expect(codes(after.defects)).toEqual(['EXPIRED']);
  });

  it('builds the chain through the version of an intermediate that works when the chain file holds two', async () => {
    const twin = await twinIntermediates(dir.path, root);
    const result = await inspector.inspect(material(twin.leaf.certPem, twin.leaf.keyPem, twin.dangling + twin.trusted), context());
    expect(result.defects).toEqual([]);
    // Neither version leads to the trust store: one answer, at the intermediate.
    const neither = await inspector.inspect(material(twin.leaf.certPem, twin.leaf.keyPem, twin.dangling + twin.danglingAgain), context());
    expect(codes(neither.defects)).toEqual(['OPENSSL_VERIFY:1:20:UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);
  });
});

describe('revocation of the intermediates', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let root: LabCa;
  let responder: OcspResponder;
  const leaves: Record<string, { leaf: LabCert; inter: LabCa }> = {};
  let inspector: CertificateInspector;

  beforeAll(async () => {
    dir = await labDir('x509-inter-ocsp');
    root = await createCa(join(dir.path, 'root'), { cn: 'Revoking Root CA' });
    const port = await freePort();
    const address = randomLoopback();
    const ocspUrl = `http://${address}:${port}/`;
    for (const name of ['revoked', 'good']) {
      const inter = await root.intermediate(name, { cn: `${name} Intermediate CA`, ocspUrl });
      leaves[name] = { inter, leaf: await inter.issue(`${name}-leaf`, { cn: NAME }) };
    }
    await root.revoke(leaves.revoked!.inter);
    responder = await startOcspResponder(root, { port, address });
    inspector = new CertificateInspector(undefined, undefined, {
      trustStore: new TrustStore({ pems: [root.certPem] }),
      revocation: new RevocationChecker({ timeoutMs: 5000 }),
    });
  });
  afterAll(async () => {
    await responder?.stop();
    await dir?.cleanup();
  });

  it('replaces a certificate whose intermediate the root revoked, and notes a good one', async () => {
    const { leaf, inter } = leaves.revoked!;
    const revoked = await inspector.inspect(material(leaf.certPem + inter.certPem, leaf.keyPem), context(true));
    expect(revoked.defects).toEqual([
      expect.objectContaining({ code: 'OCSP_REVOKED', severity: 'replace', path: '/ssl/d.crt', message: expect.stringContaining('revoked Intermediate CA') }),
    ]);
    const good = await inspector.inspect(material(leaves.good!.leaf.certPem + leaves.good!.inter.certPem, leaves.good!.leaf.keyPem), context(true));
    expect(good.defects).toEqual([expect.objectContaining({ code: 'OCSP_GOOD', severity: 'info' })]);
  });
});

/**
 * One intermediate key and name in two certificates: one signed by the trusted root, one by a root nobody trusts
 * (`dangling`, written first so that a builder taking the first candidate fails), and a third like the second.
 */
async function twinIntermediates(base: string, trusted: LabCa): Promise<{ leaf: LabCert; trusted: string; dangling: string; danglingAgain: string }> {
  const other = await createCa(join(base, 'other-root'), { cn: 'Untrusted Root CA' });
  const file = (name: string) => join(base, name);
  await writeFile(
    file('ca.ext'),
    '[ext]\nbasicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n',
  );
  await writeFile(
    file('leaf.ext'),
    `[ext]\nbasicConstraints = CA:false\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:${NAME}\nauthorityKeyIdentifier = keyid\n`,
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await mustRun('openssl', ['req', '-new', ...ec, '-subj', '/CN=Twin Intermediate CA', '-keyout', file('twin.key'), '-out', file('twin.csr')]);
  const sign = (csr: string, ca: string, caKey: string, serial: number, ext: string, out: string) =>
    mustRun('openssl', [
      'x509',
      '-req',
      '-in',
      file(csr),
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-set_serial',
      String(serial),
      '-days',
      '30',
      '-extfile',
      file(ext),
      '-extensions',
      'ext',
      '-out',
      file(out),
    ]);
  await sign('twin.csr', other.certFile, other.keyFile, 11, 'ca.ext', 'dangling.crt');
  await sign('twin.csr', other.certFile, other.keyFile, 12, 'ca.ext', 'dangling-again.crt');
  await sign('twin.csr', trusted.certFile, trusted.keyFile, 13, 'ca.ext', 'trusted.crt');
  await mustRun('openssl', ['req', '-new', ...ec, '-subj', `/CN=${NAME}`, '-keyout', file('leaf.key'), '-out', file('leaf.csr')]);
  await sign('leaf.csr', file('trusted.crt'), file('twin.key'), 14, 'leaf.ext', 'leaf.crt');
  const read = (name: string) => readFile(file(name), 'utf8');
  return {
    leaf: {
      name: 'twin-leaf',
      certFile: file('leaf.crt'),
      keyFile: file('leaf.key'),
      certPem: await read('leaf.crt'),
      keyPem: await read('leaf.key'),
      serial: '0e',
    },
    trusted: await read('trusted.crt'),
    dangling: await read('dangling.crt'),
    danglingAgain: await read('dangling-again.crt'),
  };
}
