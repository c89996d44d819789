// Revocation against real components: `openssl ocsp` as the responder, a CRL made by `openssl ca -gencrl` served over HTTP.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectContext, ServiceMaterial } from '@certsmith/core';
import {
  createCa,
  freePort,
  labDir,
  randomLoopback,
  startOcspResponder,
  startStaticHttp,
  type LabCa,
  type LabCert,
  type OcspResponder,
  type StaticHttp,
} from '@certsmith/testlab';
import { CertificateInspector } from './inspector.js';
import { RevocationChecker, crlUrls, ocspUrls } from './revocation.js';
import { TrustStore } from './trust-store.js';

const NAME = 'www.example.test';

function ctx(live = true): InspectContext {
  return {
    target: { id: 'hostname', names: [NAME], services: ['dovecot'], kind: 'hostname' },
    now: new Date(),
    policy: { providerIssuerPatterns: [], providerThresholdDays: 25, otherThresholdDays: 3, caConfigured: true, live },
    signal: AbortSignal.timeout(20_000),
  };
}

function material(cert: LabCert): ServiceMaterial {
  return {
    service: 'dovecot',
    endpoints: [],
    sources: [
      { path: '/ssl/d.crt', role: 'certificate', bytes: Buffer.from(cert.certPem) },
      { path: '/ssl/d.key', role: 'key', bytes: Buffer.from(cert.keyPem) },
    ],
  };
}

const der = (cert: LabCert | LabCa) => new X509Certificate(cert.certPem).raw;

describe('revocation: OCSP and CRL', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let ca: LabCa;
  let crlCa: LabCa;
  let responder: OcspResponder;
  let crlServer: StaticHttp;
  let slow: StaticHttp;
  const address = randomLoopback();
  const certs: Record<string, LabCert> = {};
  let inspector: CertificateInspector;

  beforeAll(async () => {
    dir = await labDir('revocation');
    ca = await createCa(join(dir.path, 'ca'), { cn: 'OCSP Lab CA' });
    crlCa = await createCa(join(dir.path, 'crl-ca'), { cn: 'CRL Lab CA' });
    const [ocspPort, deadPort] = [await freePort(), await freePort()];
    slow = await startStaticHttp({ address, delayMs: Infinity });
    crlServer = await startStaticHttp({ address });
    const ocspUrl = `http://${address}:${ocspPort}/`;
    certs.good = await ca.issue('good', { cn: NAME, ocspUrl });
    certs.revoked = await ca.issue('revoked', { cn: NAME, ocspUrl });
    certs.unknown = await ca.issue('unknown', { cn: NAME, ocspUrl, unlisted: true });
    certs.down = await ca.issue('down', { cn: NAME, ocspUrl: `http://${address}:${deadPort}/` });
    certs.slow = await ca.issue('slow', { cn: NAME, ocspUrl: slow.url('/ocsp') });
    await ca.revoke(certs.revoked);
    // The responder reads index.txt at start: it starts after the revocation.
    responder = await startOcspResponder(ca, { port: ocspPort, address });

    const crlUrl = crlServer.url('/lab.crl');
    certs.crlGood = await crlCa.issue('crl-good', { cn: NAME, crlUrl });
    certs.crlRevoked = await crlCa.issue('crl-revoked', { cn: NAME, crlUrl });
    certs.crlMissing = await crlCa.issue('crl-missing', { cn: NAME, crlUrl: crlServer.url('/absent.crl') });
    await crlCa.revoke(certs.crlRevoked);
    const crlFile = join(dir.path, 'lab.crl');
    await crlCa.crl(crlFile);
    crlServer.put('/lab.crl', await readFile(crlFile));

    inspector = new CertificateInspector(undefined, undefined, {
      trustStore: new TrustStore({ pems: [ca.certPem, crlCa.certPem] }),
      revocation: new RevocationChecker({ timeoutMs: 1_500 }),
    });
  });
  afterAll(async () => {
    await responder?.stop();
    await crlServer?.stop();
    await slow?.stop();
    await dir?.cleanup();
  });

  it('reads the responder and distribution point URLs from the certificates', async () => {
    expect(ocspUrls(new X509Certificate(certs.good!.certPem))).toEqual([responder.url]);
    expect(await crlUrls(der(certs.crlGood!))).toEqual([crlServer.url('/lab.crl')]);
    expect(await crlUrls(der(certs.good!))).toEqual([]);
  });

  it.each([
    ['good', 'good'],
    ['revoked', 'revoked'],
    ['unknown', 'unknown'],
    ['down', 'unreachable'],
    ['slow', 'unreachable'],
  ])('OCSP: %s → %s', async (which, status) => {
    const result = await new RevocationChecker({ timeoutMs: 1_500 }).check(der(certs[which]!), der(ca), new Date(), AbortSignal.timeout(10_000));
    expect(result, responder.log()).toMatchObject({ method: 'ocsp', status });
    if (status === 'revoked') expect(result).toMatchObject({ reason: 'keyCompromise' });
    if (which === 'slow') expect(result!.detail).toContain('no answer within 1500 ms');
    if (which === 'down') expect(result!.detail).toContain('connection refused');
  });

  it('OCSP: a response checked against the wrong issuer is not trusted', async () => {
    const result = await new RevocationChecker().check(der(certs.good!), der(crlCa), new Date(), AbortSignal.timeout(10_000));
    expect(result!.status).toBe('invalid');
  });

  it.each([
    ['crlGood', 'good'],
    ['crlRevoked', 'revoked'],
    ['crlMissing', 'unreachable'],
  ])('CRL (no OCSP URL): %s → %s', async (which, status) => {
    const result = await new RevocationChecker().check(der(certs[which]!), der(crlCa), new Date(), AbortSignal.timeout(10_000));
    expect(result).toMatchObject({ method: 'crl', status });
  });

  it('CRL: a CRL signed by another CA is not trusted', async () => {
    const result = await new RevocationChecker().check(der(certs.crlGood!), der(ca), new Date(), AbortSignal.timeout(10_000));
    expect(result!.status).toBe('invalid');
  });

  it('in the inspection only a revocation forces replacement; the rest are warnings or notes', async () => {
    const expected: Record<string, [string, string]> = {
      good: ['OCSP_GOOD', 'info'],
      revoked: ['OCSP_REVOKED', 'replace'],
      unknown: ['OCSP_UNKNOWN', 'warning'],
      down: ['OCSP_UNREACHABLE', 'warning'],
      slow: ['OCSP_UNREACHABLE', 'warning'],
      crlGood: ['CRL_GOOD', 'info'],
      crlRevoked: ['CRL_REVOKED', 'replace'],
      crlMissing: ['CRL_UNREACHABLE', 'warning'],
    };
    const results = await Promise.all(Object.keys(expected).map((which) => inspector.inspect(material(certs[which]!), ctx())));
    Object.keys(expected).forEach((which, index) => {
      const [code, severity] = expected[which]!;
      expect(results[index]!.defects, which).toEqual([expect.objectContaining({ code, severity, path: '/ssl/d.crt' })]);
    });
    expect(results[1]!.defects[0]!.message).toMatch(/revoked this certificate on .* \(keyCompromise\)/);
  });

  it('asks nobody when network checks are off', async () => {
    const before = crlServer.requests.length;
    const result = await inspector.inspect(material(certs.crlRevoked!), ctx(false));
    expect(result.defects).toEqual([]);
    expect(crlServer.requests.length).toBe(before);
  });
});
