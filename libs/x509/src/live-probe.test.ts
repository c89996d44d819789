// Live inspection against real servers on loopback: nginx (implicit TLS, and a stale service), Dovecot (IMAP
// STARTTLS, IMAPS, POP3 STARTTLS, POP3S) and Exim (SMTP STARTTLS, SMTPS). One lab per file section.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint, InspectContext, ServiceMaterial } from '@certsmith/core';
import {
  createCa,
  labDir,
  randomLoopback,
  startDovecot,
  startExim,
  startNginx,
  startPureFtpd,
  type Dovecot,
  type Exim,
  type LabCa,
  type LabCert,
  type Nginx,
  type PureFtpd,
} from '@certsmith/testlab';
import { parseCertificate } from './certificate.js';
import { CertificateInspector } from './inspector.js';
import { TlsLiveProbe } from './live-probe.js';
import { parsePem } from './pem.js';
import { TrustStore } from './trust-store.js';

const NAME = 'mail.example.test';

function fingerprint(cert: LabCert): string {
  return parseCertificate(parsePem(cert.certPem)[0]!.der).summary.fingerprint;
}

function ctx(): InspectContext {
  return {
    target: { id: 'hostname', names: [NAME], services: ['x'], kind: 'hostname' },
    now: new Date(),
    policy: { providerIssuerPatterns: [], providerThresholdDays: 25, otherThresholdDays: 3, caConfigured: true, live: true },
    signal: AbortSignal.timeout(20_000),
  };
}

function material(cert: LabCert, chainPem: string, endpoints: Endpoint[]): ServiceMaterial {
  return {
    service: 'x',
    endpoints,
    sources: [
      { path: '/files/x.crt', role: 'certificate', bytes: Buffer.from(cert.certPem + chainPem) },
      { path: '/files/x.key', role: 'key', bytes: Buffer.from(cert.keyPem) },
    ],
  };
}

/** Waits (bounded) for a condition a server reaches asynchronously. */
async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let dir: Awaited<ReturnType<typeof labDir>>;
let root: LabCa;
let inter: LabCa;
let a: LabCert;
let b: LabCert;
let probe: TlsLiveProbe;
let trust: TrustStore;
beforeAll(async () => {
  dir = await labDir('live');
  root = await createCa(join(dir.path, 'root'), { cn: 'Live Root CA' });
  inter = await root.intermediate('inter', { cn: 'Live Intermediate CA' });
  a = await inter.issue('a', { cn: NAME, san: [NAME, 'www.example.test'] });
  b = await inter.issue('b', { cn: NAME, san: [NAME, 'www.example.test'] });
  trust = new TrustStore({ pems: [root.certPem] });
  probe = new TlsLiveProbe({ timeoutMs: 3_000, trustStore: trust });
});
afterAll(() => dir?.cleanup());

describe('nginx: implicit TLS, SNI, a closed port, a stale service', () => {
  let nginx: Nginx;
  let site: string;
  beforeAll(async () => {
    site = join(dir.path, 'site');
    await mkdir(site, { recursive: true });
    // nginx sends what ssl_certificate holds: leaf + intermediate.
    await writeFile(join(site, 'cert.pem'), a.certPem + inter.certPem);
    await copyFile(a.keyFile, join(site, 'key.pem'));
    nginx = await startNginx({
      address: randomLoopback(),
      httpPort: 8080,
      tlsPort: 8443,
      sites: [
        { serverNames: [NAME, 'www.example.test'], docroot: join(site, 'docroot'), tls: { certFile: join(site, 'cert.pem'), keyFile: join(site, 'key.pem') } },
      ],
    });
  });
  afterAll(() => nginx?.stop());

  it('sees the served leaf and chain with SNI, verified against the trust store', async () => {
    const [seen] = await probe.observe([{ host: nginx.address, port: nginx.tlsPort, starttls: null, servername: NAME }], AbortSignal.timeout(5_000));
    expect(seen, await nginx.log()).toMatchObject({ ok: true, fingerprint: fingerprint(a), servername: NAME, endpoint: `${nginx.address}:${nginx.tlsPort}` });
    // OpenSSL completes what nginx sent (leaf + intermediate) with the trust anchor.
    expect(seen!.chain!.map((der) => parseCertificate(der).summary.commonName)).toEqual([NAME, 'Live Intermediate CA', 'Live Root CA']);
    expect(seen!.verifyError).toBeUndefined();
    expect(seen!.protocol).toMatch(/^TLSv1\.[23]$/);
    const untrusting = new TlsLiveProbe({ timeoutMs: 3_000, trustStore: new TrustStore({ pems: [b.certPem] }) });
    const [untrusted] = await untrusting.observe([{ host: nginx.address, port: nginx.tlsPort, starttls: null, servername: NAME }], AbortSignal.timeout(5_000));
    expect(untrusted).toMatchObject({ ok: true, fingerprint: fingerprint(a) });
    expect(untrusted!.verifyError).toMatch(/^UNABLE_TO_GET_ISSUER_CERT|^SELF_SIGNED_CERT_IN_CHAIN/);
  });

  it('a closed port and a non-TLS port are findings, not crashes', async () => {
    const endpoints: Endpoint[] = [
      { host: nginx.address, port: 9, starttls: null },
      { host: nginx.address, port: nginx.httpPort, starttls: null },
      { host: nginx.address, port: nginx.httpPort, starttls: 'smtp' },
    ];
    const quick = new TlsLiveProbe({ timeoutMs: 1_000, trustStore: trust });
    const [closed, plain, notSmtp] = await quick.observe(endpoints, AbortSignal.timeout(10_000));
    expect(closed).toMatchObject({ ok: false, code: 'LIVE_REFUSED' });
    expect(plain).toMatchObject({ ok: false, code: 'LIVE_TLS_FAILED' });
    expect(notSmtp!.ok).toBe(false);
    expect(['LIVE_STARTTLS_FAILED', 'LIVE_TIMEOUT']).toContain(notSmtp!.code);
  });

  it('a silent server is a timeout within the bound', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, nginx.address, resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const quick = new TlsLiveProbe({ timeoutMs: 400, trustStore: trust });
      const [seen] = await quick.observe([{ host: nginx.address, port, starttls: 'imap' }], AbortSignal.timeout(5_000));
      expect(seen).toMatchObject({ ok: false, code: 'LIVE_TIMEOUT', error: 'no TLS handshake within 400 ms' });
    } finally {
      silent.close();
    }
  });

  it('the inspector reports STALE_LIVE when the files changed but nginx was not reloaded, and not after the reload', async () => {
    const inspector = new CertificateInspector(probe, undefined, { trustStore: trust, revocation: null });
    const endpoints: Endpoint[] = [
      { host: nginx.address, port: nginx.tlsPort, starttls: null },
      { host: nginx.address, port: 9, starttls: null },
    ];
    const fresh = await inspector.inspect(material(a, inter.certPem, endpoints), ctx());
    expect(fresh.defects.map((d) => d.code)).toEqual(['LIVE_REFUSED']);
    expect(fresh.live[0]).toEqual({ endpoint: `${nginx.address}:${nginx.tlsPort}`, ok: true, fingerprint: fingerprint(a) });

    await writeFile(join(site, 'cert.pem'), b.certPem + inter.certPem);
    await copyFile(b.keyFile, join(site, 'key.pem'));
    const stale = await inspector.inspect(material(b, inter.certPem, endpoints.slice(0, 1)), ctx());
    expect(stale.defects).toEqual([expect.objectContaining({ code: 'STALE_LIVE', severity: 'warning' })]);
    expect(stale.defects[0]!.message).toContain('reload the service');

    await nginx.reload();
    // `nginx -s reload` returns once signalled; new workers take over shortly after, and old ones may still accept
    // a connection while they shut down: wait until several handshakes in a row see the new certificate.
    let streak = 0;
    await until(async () => {
      const [seen] = await probe.observe(endpoints.slice(0, 1), AbortSignal.timeout(5_000));
      streak = seen!.fingerprint === fingerprint(b) ? streak + 1 : 0;
      return streak >= 5;
    });
    const reloaded = await inspector.inspect(material(b, inter.certPem, endpoints.slice(0, 1)), ctx());
    expect(reloaded.defects).toEqual([]);
    expect(reloaded.live[0]!.fingerprint).toBe(fingerprint(b));
  });
});

describe('Dovecot and Exim: STARTTLS', () => {
  let dovecot: Dovecot;
  let exim: Exim;
  beforeAll(async () => {
    const files = join(dir.path, 'mail');
    await mkdir(files, { recursive: true });
    await writeFile(join(files, 'cert.pem'), a.certPem + inter.certPem);
    await copyFile(a.keyFile, join(files, 'key.pem'));
    const address = randomLoopback();
    [dovecot, exim] = await Promise.all([
      startDovecot({ address, certFile: join(files, 'cert.pem'), keyFile: join(files, 'key.pem') }),
      startExim({ address, certPem: a.certPem + inter.certPem, keyPem: a.keyPem }),
    ]);
  });
  afterAll(async () => {
    await dovecot?.stop();
    await exim?.stop();
  });

  it('handshakes on every mail endpoint, upgrading where the protocol says so', async () => {
    const h = dovecot.address;
    const endpoints: Endpoint[] = [
      { host: h, port: dovecot.ports.imap, starttls: 'imap', servername: NAME },
      { host: h, port: dovecot.ports.imaps, starttls: null, servername: NAME },
      { host: h, port: dovecot.ports.pop3, starttls: 'pop3', servername: NAME },
      { host: h, port: dovecot.ports.pop3s, starttls: null, servername: NAME },
      { host: h, port: exim.ports.smtp, starttls: 'smtp', servername: NAME },
      { host: h, port: exim.ports.submission, starttls: 'smtp', servername: NAME },
      { host: h, port: exim.ports.smtps, starttls: null, servername: NAME },
    ];
    const seen = await probe.observe(endpoints, AbortSignal.timeout(15_000));
    for (const observation of seen) {
      expect(observation, `${await dovecot.log()}\n${await exim.log()}`).toMatchObject({ ok: true, fingerprint: fingerprint(a) });
      expect(observation.verifyError).toBeUndefined();
    }
    expect(seen[0]!.endpoint).toBe(`${h}:${dovecot.ports.imap} (STARTTLS imap)`);
  });

  it('a STARTTLS dialogue with the wrong protocol fails with a reason', async () => {
    const [wrong] = await probe.observe([{ host: dovecot.address, port: dovecot.ports.imap, starttls: 'smtp' }], AbortSignal.timeout(5_000));
    expect(wrong).toMatchObject({ ok: false, code: 'LIVE_STARTTLS_FAILED' });
    expect(wrong!.error).toMatch(/unexpected reply|greeting/);
  });

  it('the inspector sees Exim keep the old certificate until it is told (stale), then the new one', async () => {
    const inspector = new CertificateInspector(probe, undefined, { trustStore: trust, revocation: null });
    const endpoints: Endpoint[] = [{ host: exim.address, port: exim.ports.smtp, starttls: 'smtp' }];
    await exim.writeCertificate(b.certPem + inter.certPem, b.keyPem);
    const stale = await inspector.inspect(material(b, inter.certPem, endpoints), ctx());
    expect(stale.defects.map((d) => d.code)).toEqual(['STALE_LIVE']);
    await exim.reload();
    const fresh = await inspector.inspect(material(b, inter.certPem, endpoints), ctx());
    expect(fresh.defects, await exim.log()).toEqual([]);
  });
});

describe('Pure-FTPd: FTP AUTH TLS', () => {
  let ftp: PureFtpd;
  beforeAll(async () => {
    const pem = join(dir.path, 'pure-ftpd.pem');
    await writeFile(pem, a.keyPem + a.certPem + inter.certPem, { mode: 0o600 });
    ftp = await startPureFtpd({ address: randomLoopback(), port: 2121, certFile: pem });
  });
  afterAll(() => ftp?.stop());

  it('upgrades the control connection with AUTH TLS and sees the certificate', async () => {
    const [seen] = await probe.observe([{ host: ftp.address, port: ftp.port, starttls: 'ftp', servername: NAME }], AbortSignal.timeout(10_000));
    expect(seen).toMatchObject({ ok: true, fingerprint: fingerprint(a), endpoint: `${ftp.address}:${ftp.port} (STARTTLS ftp)` });
    expect(seen!.verifyError).toBeUndefined();
  });
});
