// Inspection end to end: the built CLI reads fixture files (made with openssl now) in the cPanel layout and
// handshakes with real nginx, Dovecot and Exim on loopback, then prints checkallsslcerts' lines and the --json report.
import { createSocket, type Socket } from 'node:dgram';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCa,
  labDir,
  randomLoopback,
  runCli,
  startDovecot,
  startExim,
  startNginx,
  type Dovecot,
  type Exim,
  type LabCa,
  type LabCert,
  type Nginx,
} from '@certsmith/testlab';

const HOST = 'host.example.test';
const DAY = 86_400_000;

interface InspectJson {
  status: string;
  action: string;
  files: string[];
  live: { endpoint: string; ok: boolean; fingerprint?: string; error?: string }[];
  summary: {
    subject: string;
    names: string[];
    issuer: string;
    serial: string;
    notAfter: string;
    key: string;
    signatureAlgorithm: string;
    fingerprint: string;
  } | null;
  chain: { subject: string }[];
  defects: { code: string; message: string; severity: string; path?: string; cpanel?: string }[];
}

/**
 * A one-address DNS "root" that answers every question itself, authoritatively: the iterative resolver the CLI
 * binds asks it first (config dns.rootHints and dns.port) and never leaves loopback.
 */
async function startFakeRoot(address: string, answer: () => 'address' | 'nxdomain'): Promise<{ port: number; questions: string[]; stop: () => void }> {
  const socket: Socket = createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (message, peer) => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question) return;
    questions.push(`${question.name} ${question.type}`);
    const mode = answer();
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (mode === 'nxdomain' ? 3 : 0),
      questions: [question],
      answers: mode === 'address' && question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 60, class: 'IN', data: '127.0.0.2' }] : [],
      authorities:
        mode === 'nxdomain' || question.type !== 'A'
          ? [
              {
                type: 'SOA',
                name: 'test',
                ttl: 60,
                class: 'IN',
                data: { mname: 'a.root', rname: 'hostmaster.test', serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 60 },
              },
            ]
          : [],
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  return { port: socket.address().port, questions, stop: () => socket.close() };
}

describe('certsmith check: inspection of files and live services', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let root: LabCa;
  let inter: LabCa;
  let nginx: Nginx;
  let dovecot: Dovecot;
  let exim: Exim;
  let config: string;
  const certs: Record<string, LabCert> = {};
  // A fixed "now" for the CLI, so that expiry figures are exact; after the CAs' start, so that they are valid.
  const now = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 60_000);
  let dns: Awaited<ReturnType<typeof startFakeRoot>>;
  let dnsAnswer: 'address' | 'nxdomain' = 'address';
  const ssl = (path: string) => join(dir.path, 'ssl', path);
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await labDir('inspect-e2e');
    root = await createCa(join(dir.path, 'root'), { cn: 'E2E Root CA' });
    inter = await root.intermediate('inter', { cn: 'E2E Intermediate CA' });
    const san = [HOST];
    const validFor = (days: number) => ({ cn: HOST, san, notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + days * DAY) });
    certs.expired = await inter.issue('expired', { cn: HOST, san, notBefore: new Date(now.getTime() - 90 * DAY), notAfter: new Date(now.getTime() - 2 * DAY) });
    certs.good = await inter.issue('good', validFor(60));
    // A 90-day certificate in its last 2 days (a 3-day one would not be due yet: half its life is left).
    certs.soon = await inter.issue('soon', { ...validFor(2), notBefore: new Date(now.getTime() - 88 * DAY) });
    certs.other = await inter.issue('other', validFor(60));
    await writeFile(join(dir.path, 'trust.pem'), root.certPem);

    // cPanel layout: cpanel (combined, expired), dovecot (CA-signed files, good), exim (expires in 2 days), ftp (garbage).
    for (const sub of ['cpanel', 'dovecot', 'exim', 'ftp']) await mkdir(ssl(sub), { recursive: true });
    await writeFile(ssl('cpanel/mycpanel.pem'), certs.expired!.keyPem + certs.expired!.certPem + inter.certPem, { mode: 0o600 });
    await writeFile(ssl('cpanel/mycpanel.cabundle'), inter.certPem);
    await writeFile(ssl('dovecot/mydovecot.crt'), certs.good!.certPem + inter.certPem);
    await copyFile(certs.good!.keyFile, ssl('dovecot/mydovecot.key'));
    await writeFile(ssl('exim/myexim.crt'), certs.soon!.certPem + inter.certPem);
    await copyFile(certs.soon!.keyFile, ssl('exim/myexim.key'));
    await writeFile(ssl('ftp/pure-ftpd.pem'), Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x41, 0x0a]));

    const address = randomLoopback();
    const web = join(dir.path, 'web');
    await mkdir(web, { recursive: true });
    await writeFile(join(web, 'cert.pem'), certs.expired!.certPem + inter.certPem);
    await copyFile(certs.expired!.keyFile, join(web, 'key.pem'));
    [nginx, dovecot, exim] = await Promise.all([
      // cpsrvd's port, served by nginx with the same (expired) certificate as the files.
      startNginx({
        address,
        httpPort: 2082,
        tlsPort: 2083,
        sites: [{ serverNames: [HOST], docroot: join(web, 'docroot'), tls: { certFile: join(web, 'cert.pem'), keyFile: join(web, 'key.pem') } }],
      }),
      startDovecot({ address, certFile: ssl('dovecot/mydovecot.crt'), keyFile: ssl('dovecot/mydovecot.key') }),
      // Exim still serves the previous certificate: the files changed, the service was not reloaded.
      startExim({ address, certPem: certs.other!.certPem + inter.certPem, keyPem: certs.other!.keyPem }),
    ]);
    dns = await startFakeRoot(address, () => dnsAnswer);
    await writeFile(join(dir.path, 'root.hints'), `.  3600000  NS  a.root.\na.root.  3600000  A  ${address}\n`);
    config = join(dir.path, 'config.json');
    await writeFile(
      config,
      JSON.stringify(
        {
          profile: 'full',
          hostname: HOST,
          paths: { stateDir: './state', sslDir: './ssl' },
          dns: { rootHints: './root.hints', port: dns.port, timeoutMs: 1_000, retries: 0 },
          // The fake root says the host is at 127.0.0.2: this server's own address, as on a lab machine.
          server: { addresses: ['127.0.0.2'] },
          inspection: { live: true, timeoutMs: 5_000 },
          services: {
            cpanel: { endpoints: [{ host: address, port: nginx.tlsPort }] },
            dovecot: {
              endpoints: [
                { host: address, port: dovecot.ports.imap, starttls: 'imap' },
                { host: address, port: dovecot.ports.imaps },
              ],
            },
            exim: { endpoints: [{ host: address, port: exim.ports.smtp, starttls: 'smtp' }] },
            ftp: { endpoints: [{ host: address, port: 9, starttls: 'ftp' }] },
          },
        },
        null,
        2,
      ),
    );
    env = { CERTSMITH_FAKE_NOW: now.toISOString(), SSL_CERT_FILE: join(dir.path, 'trust.pem') };
  });
  afterAll(async () => {
    await Promise.all([nginx?.stop(), dovecot?.stop(), exim?.stop()]);
    dns?.stop();
    await dir?.cleanup();
  });

  /** The lines of one service's block in the log. */
  function block(stdout: string, service: string): string {
    const start = stdout.indexOf(`  Service ${service}:`);
    expect(start, stdout).toBeGreaterThanOrEqual(0);
    const rest = stdout.slice(start + 1);
    const end = rest.search(/\n {2}\S/);
    return end < 0 ? rest : rest.slice(0, end);
  }

  it('prints the cPanel-style verdict of every service, files and live', async () => {
    const result = await runCli(['check', '--dry-run', '--verbose', '--config', config], { env });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Analyzing "${HOST}" ...`);

    const cpanel = block(result.stdout, 'cpanel');
    expect(cpanel).toContain('TLS Status: Defective');
    expect(cpanel).toMatch(/Defect: EXPIRED: the certificate expired on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \[OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED\]/);
    expect(cpanel).toMatch(/Certificate expiry: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(-2\.00 days from now\)/);
    expect(cpanel).toContain(`Files: ${ssl('cpanel/mycpanel.pem')}, ${ssl('cpanel/mycpanel.cabundle')}`);
    expect(cpanel).toMatch(new RegExp(`Live ${nginx.address.replace(/\./g, '\\.')}:2083: sha256 [0-9a-f]{16}`));
    expect(cpanel).toContain('Issuer: CN=E2E Intermediate CA');
    expect(cpanel).toContain(`Names: ${HOST}`);
    expect(cpanel).toContain('Action: replace the certificate');
    expect(cpanel).toMatch(/Chain: CN=E2E Intermediate CA \(expires \d{4}-\d\d-\d\d\)/);

    const dovecotBlock = block(result.stdout, 'dovecot');
    expect(dovecotBlock).toContain('TLS Status: OK');
    expect(dovecotBlock).toContain('Certificate expiry:');
    expect(dovecotBlock).toContain('(60.00 days from now)');
    expect(dovecotBlock).not.toMatch(/Defect:|Warning:/);
    expect(dovecotBlock).toContain(`Live ${dovecot.address}:${dovecot.ports.imap} (STARTTLS imap): sha256`);

    const eximBlock = block(result.stdout, 'exim');
    expect(eximBlock).toContain('TLS Status: Ready for Renewal');
    expect(eximBlock).toContain('(2.00 days from now)');
    expect(eximBlock).toMatch(/Defect: ALMOST_EXPIRED: the certificate expires in 2\.00 days, under the 3-day threshold for other certificates/);
    expect(eximBlock).toMatch(/Warning: STALE_LIVE: .*:\d+ \(STARTTLS smtp\) serves a different certificate .* reload the service/);
    expect(eximBlock).toMatch(/Live .*\(STARTTLS smtp\): sha256 [0-9a-f]{16}… \(not the certificate in the files\)/);

    const ftp = block(result.stdout, 'ftp');
    expect(ftp).toContain('TLS Status: Defective');
    expect(ftp).toContain(`Defect: INVALID_CERTIFICATE: ${ssl('ftp/pure-ftpd.pem')}: neither PEM nor DER`);
    expect(ftp).toMatch(/Warning: LIVE_REFUSED: .*:9 \(STARTTLS ftp\): connection refused/);
  });

  it('--json carries the summary, the chain, the live observations and the defects', async () => {
    const result = await runCli(['check', '--dry-run', '--json', '--config', config], { env });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { targets: { result: string; services: { service: string; inspect: InspectJson }[] }[] };
    const by = Object.fromEntries(report.targets[0]!.services.map((s) => [s.service, s.inspect]));
    expect(report.targets[0]!.result).toBe('planned');

    expect(by.dovecot!.status).toBe('OK');
    expect(by.dovecot!.summary).toMatchObject({
      subject: `CN=${HOST}`,
      names: [HOST],
      issuer: 'CN=E2E Intermediate CA',
      key: 'EC P-256',
      signatureAlgorithm: 'ecdsa-with-SHA256',
      serial: certs.good!.serial.toLowerCase(),
    });
    expect(by.dovecot!.chain.map((c) => c.subject)).toEqual(['CN=E2E Intermediate CA']);
    expect(by.dovecot!.live).toHaveLength(2);
    for (const live of by.dovecot!.live) expect(live).toMatchObject({ ok: true, fingerprint: by.dovecot!.summary!.fingerprint });

    expect(by.cpanel!.status).toBe('Defective');
    expect(by.cpanel!.action).toBe('replace');
    expect(by.cpanel!.defects).toEqual([
      expect.objectContaining({ code: 'EXPIRED', cpanel: 'OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED', severity: 'replace', path: ssl('cpanel/mycpanel.pem') }),
    ]);

    expect(by.exim!.status).toBe('Ready for Renewal');
    // Still valid and CA-signed: only a CA-signed certificate may replace it, and no CA is configured: it stays.
    expect(by.exim!.defects.map((d) => [d.code, d.severity])).toEqual([
      ['ALMOST_EXPIRED', 'upgrade'],
      ['STALE_LIVE', 'warning'],
    ]);
    expect(by.exim!.action).toBe('keep');
    expect(by.exim!.live[0]!.fingerprint).not.toBe(by.exim!.summary!.fingerprint);

    expect(by.ftp!.summary).toBeNull();
    expect(by.ftp!.defects.map((d) => d.code)).toEqual([`INVALID_CERTIFICATE:${ssl('ftp/pure-ftpd.pem')}`, 'LIVE_REFUSED']);
    expect(by.ftp!.live).toEqual([{ endpoint: `${nginx.address}:9 (STARTTLS ftp)`, ok: false, error: 'connection refused: nothing listens on this port' }]);
  });

  it("without the lab root in the trust store, the chain is reported with OpenSSL's depth and reason", async () => {
    const result = await runCli(['check', '--dry-run', '--json', '--config', config], {
      env: { ...env, SSL_CERT_FILE: join(dir.path, 'missing-bundle.pem'), CERTSMITH_FAKE_NOW: now.toISOString() },
    });
    const report = JSON.parse(result.stdout) as { targets: { services: { service: string; inspect: InspectJson }[] }[] };
    const dovecotInspect = report.targets[0]!.services.find((s) => s.service === 'dovecot')!.inspect;
    // Node's own root list stands in when the bundle cannot be read; the lab root is in neither.
    expect(dovecotInspect.defects).toEqual([expect.objectContaining({ code: 'OPENSSL_VERIFY:1:20:UNABLE_TO_GET_ISSUER_CERT_LOCALLY', severity: 'warning' })]);
    expect(dovecotInspect.defects[0]!.message).toContain('E2E Intermediate CA');
  });

  it('the hostname must resolve: asked through the configured resolver, from its root', async () => {
    dnsAnswer = 'nxdomain';
    try {
      const result = await runCli(['check', '--dry-run', '--config', config], { env });
      expect(result.stdout).toContain(`Warning: HOSTNAME_DOES_NOT_RESOLVE: "${HOST}" does not resolve (no such name); a CA cannot validate it`);
      expect(dns.questions).toContain(`${HOST} A`);
    } finally {
      dnsAnswer = 'address';
    }
  });
});
