// Email notification, the run report and the event log, end to end: the built CLI against a temporary sandbox,
// mailing a real SMTP server (Debian's Exim on a loopback address) that delivers into a maildir.
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomInt } from 'node:crypto';
import {
  LabError,
  ServerProcess,
  createCa,
  labDir,
  mustRun,
  randomLoopback,
  run,
  runCli,
  startSmtpReceiver,
  type RunResult,
  type SmtpReceiver,
} from '@certsmith/testlab';

const SMTP_USER = 'certsmith';
// Planted secrets: none of them may appear in a received message, the event log or the CLI's output.
const SMTP_PASSWORD = 'Pl4nted-Smtp-Secret-7c1e';
const TO = 'admin@example.test';
const HOST = 'host.sandbox.test';

let receiver: SmtpReceiver;
/** A BIND root on loopback where HOST resolves: the run checks that the hostname resolves, and must ask no real root. */
let dns: { rootHints: string; port: number; server: ServerProcess };
let caFile: string;
let lab: { path: string; cleanup: () => Promise<void> };
/** A healthy certificate for HOST: key PEM, certificate PEM, notAfter. */
let good: { keyPem: string; certPem: string; notAfter: Date };

beforeAll(async () => {
  lab = await labDir('notify-lab');
  const address = randomLoopback();
  const ca = await createCa(join(lab.path, 'ca'), { cn: 'certsmith lab SMTP CA', days: 2 });
  const server = await ca.issue('mail.example.test', { days: 2 });
  caFile = ca.certFile;
  receiver = await startSmtpReceiver({
    address,
    ports: { smtp: 2525, smtps: 4465 },
    tls: { certFile: server.certFile, keyFile: server.keyFile },
    auth: { user: SMTP_USER, password: SMTP_PASSWORD },
  });
  // The sandbox's own certificate: self-signed for HOST with SAN and serverAuth, as the selfsigned issuer makes them.
  const d = join(lab.path, 'sandbox-cert');
  await mkdir(d);
  await mustRun('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '90',
    '-subj',
    `/CN=${HOST}`,
    '-addext',
    `subjectAltName=DNS:${HOST}`,
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-keyout',
    join(d, 'k.pem'),
    '-out',
    join(d, 'c.pem'),
  ]);
  const certPem = await readFile(join(d, 'c.pem'), 'utf8');
  const end = (await mustRun('openssl', ['x509', '-noout', '-enddate', '-in', join(d, 'c.pem')])).trim().replace('notAfter=', '');
  good = { keyPem: await readFile(join(d, 'k.pem'), 'utf8'), certPem, notAfter: new Date(end) };
  dns = await startRoot(join(lab.path, 'dns'));
});

/** One named, authoritative for the root zone, which holds HOST itself (no delegation needed). */
async function startRoot(d: string): Promise<typeof dns> {
  await mkdir(d);
  const port = randomInt(20_000, 60_000);
  await writeFile(
    join(d, 'root.zone'),
    `$TTL 300
.          IN SOA a.root. hostmaster.root. 1 300 60 86400 60
.          IN NS  a.root.
a.root.    IN A   127.0.0.1
${HOST}.   IN A   127.0.0.1
`,
  );
  await writeFile(
    join(d, 'named.conf'),
    `options {
  directory "${d}";
  pid-file "${d}/named.pid";
  session-keyfile "${d}/session.key";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { 127.0.0.0/8; };
  notify no;
};
controls { };
zone "." { type primary; file "${d}/root.zone"; };
`,
  );
  await writeFile(join(d, 'root.hints'), `.  3600000  NS  a.root.\na.root.  3600000  A  127.0.0.1\n`);
  const check = await run('named-checkconf', ['-z', join(d, 'named.conf')]);
  if (check.code !== 0) throw new LabError(`named-checkconf rejected the lab root:\n${check.stdout}${check.stderr}`);
  const server = new ServerProcess('named (lab root)', '/usr/sbin/named', ['-4', '-n', '1', '-g', '-c', join(d, 'named.conf')]);
  await server.waitUntil(
    async () => (await run('dig', [`@127.0.0.1`, '-p', String(port), '+norecurse', '+short', '+time=1', '+tries=1', HOST, 'A'])).stdout.trim() === '127.0.0.1',
  );
  return { rootHints: join(d, 'root.hints'), port, server };
}

afterAll(async () => {
  await receiver?.stop();
  await dns?.server.stop();
  await lab?.cleanup();
});

let dir: { path: string; cleanup: () => Promise<void> };
let outputs: RunResult[];
beforeEach(async () => {
  dir = await labDir('notify-e2e');
  outputs = [];
  await receiver.clear();
});
afterEach(async () => {
  // Whatever a test did: no planted secret in any message, log line or output.
  const keys = await sandboxKeyBodies();
  const haystacks = [...(await receiver.messages()), ...(await logLines()), ...(await outboxMessages()), ...outputs.map((o) => o.stdout + o.stderr)];
  for (const text of haystacks) {
    const flat = text.replace(/=\r?\n/g, '');
    for (const secret of [
      SMTP_PASSWORD,
      Buffer.from(`\0${SMTP_USER}\0${SMTP_PASSWORD}`).toString('base64'),
      Buffer.from(SMTP_PASSWORD).toString('base64'),
      ...keys,
    ]) {
      expect(flat, 'a planted secret leaked').not.toContain(secret);
    }
  }
  await dir.cleanup();
});

type Mail = Record<string, unknown>;
/** The plugin entry in the config: SMTP with STARTTLS on the lab server, trusted through the lab CA. */
function smtpOptions(extra: Mail = {}): Mail {
  return {
    to: TO,
    smtp: {
      host: receiver.address,
      port: receiver.ports.smtp,
      security: 'starttls',
      servername: 'mail.example.test',
      caFile,
      user: SMTP_USER,
      password: SMTP_PASSWORD,
      timeoutMs: 3000,
    },
    retry: { attempts: 2, delayMs: 100, maxDelayMs: 200 },
    ...extra,
  };
}

async function writeConfig(options: Mail | null): Promise<string> {
  const file = join(dir.path, 'config.json');
  await writeFile(
    file,
    JSON.stringify(
      {
        profile: 'full',
        hostname: HOST,
        paths: { stateDir: './state', sslDir: './ssl', logDir: './logs' },
        inspection: { live: false },
        log: { keepDays: 7 },
        dns: { rootHints: dns.rootHints, port: dns.port, timeoutMs: 1000, retries: 1 },
        server: { addresses: ['127.0.0.1'] },
        plugins: options ? [{ module: '@certsmith/notify-email', options }] : [],
      },
      null,
      2,
    ),
  );
  return file;
}

/** Puts the healthy certificate into every service's files (cPanel layout). */
async function healthySandbox(): Promise<void> {
  const ssl = join(dir.path, 'ssl');
  const put = async (rel: string, text: string, mode: number) => {
    await mkdir(join(ssl, rel, '..'), { recursive: true });
    await writeFile(join(ssl, rel), text, { mode });
  };
  await put('cpanel/cpanel.pem', good.keyPem + good.certPem, 0o600);
  await put('dovecot/dovecot.crt', good.certPem, 0o644);
  await put('dovecot/dovecot.key', good.keyPem, 0o600);
  await put('exim/exim.crt', good.certPem, 0o644);
  await put('exim/exim.key', good.keyPem, 0o600);
  await put('ftp/pure-ftpd.pem', good.keyPem + good.certPem, 0o600);
}

/** One broken service: Exim's certificate file holds no certificate. */
async function brokenExim(): Promise<void> {
  await healthySandbox();
  await writeFile(join(dir.path, 'ssl/exim/exim.crt'), 'this is not a certificate\n');
}

async function check(config: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<RunResult> {
  const result = await runCli(['check', '--config', config, ...args], { env });
  outputs.push(result);
  expect(result.stderr).toBe('');
  return result;
}

async function logFiles(): Promise<string[]> {
  const names = await readdir(join(dir.path, 'logs')).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .map((n) => join(dir.path, 'logs', n));
}
async function logLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const f of await logFiles()) lines.push(...(await readFile(f, 'utf8')).trimEnd().split('\n'));
  return lines;
}
type LogLine = { type: string; event: Record<string, unknown> };
async function logOf(file: string): Promise<LogLine[]> {
  return (await readFile(file, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as LogLine);
}
async function outboxMessages(): Promise<string[]> {
  const d = join(dir.path, 'state/outbox');
  const names = (await readdir(d).catch(() => [] as string[])).filter((n) => n.endsWith('.eml')).sort();
  return Promise.all(names.map((n) => readFile(join(d, n), 'utf8')));
}
async function sandboxKeyBodies(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const text = await readFile(p, 'utf8');
        for (const m of text.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----\n([\s\S]*?)\n-----END/g))
          out.push(...m[1]!.split('\n').filter((l) => l.length >= 40));
      }
    }
  };
  await walk(join(dir.path, 'ssl'));
  return out;
}

/** The service tables of the HTML part: service → rows of [defect, detail, what was done]. */
function htmlTables(html: string): Map<string, string[][]> {
  const tables = new Map<string, string[][]>();
  for (const m of html.matchAll(/<table class="service" data-service="([^"]+)"[^>]*>([\s\S]*?)<\/table>/g)) {
    const body = m[2]!.split('<tbody>')[1] ?? '';
    const rows = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '')));
    tables.set(m[1]!, rows);
  }
  return tables;
}

async function parse(raw: string): Promise<ParsedMail> {
  return simpleParser(raw);
}

// Each test runs the CLI up to three times; on a loaded two-core machine one run may take several seconds.
describe('email notification through a real SMTP server', { timeout: 120_000 }, () => {
  it('one broken service: exactly one message, with both parts and a table for that service', async () => {
    await brokenExim();
    const config = await writeConfig(smtpOptions());
    const result = await check(config);
    expect(result.stdout).toMatch(/Notification \(email\): sent to admin@example\.test via the SMTP server .*:2525 \(starttls\)/);

    const [raw] = await receiver.waitForMessages(1);
    const mail = await parse(raw!);
    expect(mail.subject).toBe('1 service(s) generated warnings while checking SSL certificates.');
    expect(mail.from?.value).toEqual([{ name: 'Service SSL Certificate Warnings', address: `certsmith@${HOST}` }]);
    expect(mail.headers.get('x-certsmith-host')).toBe(HOST);
    expect(raw).toMatch(/^Envelope-to: admin@example\.test$/m);
    // "esmtpsa": the message came over TLS (STARTTLS on 2525) from an authenticated client.
    expect(raw).toMatch(/by mail\.example\.test with esmtpsa\s+\(TLS1\.[23]\)/);
    expect(await receiver.log()).toMatch(/<= certsmith@host\.sandbox\.test .* A=plain:certsmith /);

    // The log file the message points at exists and is this run's.
    const [logFile] = await logFiles();
    expect(result.stdout).toContain(`Event log: ${logFile}`);
    const html = mail.html as string;
    const text = mail.text!;
    for (const part of [html, text]) {
      expect(part).toContain(HOST);
      expect(part).toContain(logFile);
    }
    const tables = htmlTables(html);
    expect([...tables.keys()]).toEqual(['exim']);
    const exim = tables.get('exim')!;
    expect(exim[0]![0]).toBe(`INVALID_CERTIFICATE:${join(dir.path, 'ssl/exim/exim.crt')}`);
    expect(exim[0]![1]).toMatch(/exim\.crt: .*certificate/);
    expect(exim[0]![2]).not.toBe('');
    expect(text).toMatch(/^Service: exim \(target hostname: host\.sandbox\.test\)$/m);
    expect(text).toMatch(/^\| INVALID_CERTIFICATE:/m);
    const started = (await logOf(logFile!))[0]!;
    expect(started.type).toBe('run-started');

    // Every event of the run is in the log, one JSON line each, with the delivery at the end.
    const types = (await logOf(logFile!)).map((l) => l.type);
    expect(types.filter((t) => t === 'inspect')).toHaveLength(4);
    expect(types).toContain('notified');
    expect(types.at(-1)).toBe('run-finished');
    expect((await stat(logFile!)).mode & 0o777).toBe(0o600);
    expect(await receiver.messages()).toHaveLength(1);
  });

  it('nothing wrong: no message, and no connection to the server; old run logs are pruned', async () => {
    await healthySandbox();
    const config = await writeConfig(smtpOptions());
    // log.keepDays is 7: a log of a run 8 days ago goes, one of 6 days ago stays.
    await mkdir(join(dir.path, 'logs'));
    const stamp = (days: number) =>
      new Date(Date.now() - days * 86_400_000)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
    const old = `certsmith-${stamp(8)}-1.jsonl`;
    const recent = `certsmith-${stamp(6)}-1.jsonl`;
    await writeFile(join(dir.path, 'logs', old), '');
    await writeFile(join(dir.path, 'logs', recent), '');
    const result = await check(config);
    expect(result.code).toBe(0);
    const logs = await readdir(join(dir.path, 'logs'));
    expect(logs).toContain(recent);
    expect(logs).not.toContain(old);
    expect(logs).toHaveLength(2);
    expect(result.stdout).toContain('Notification (email): nothing to report');
    expect(await receiver.messages()).toEqual([]);
    const notified = (await logOf((await logFiles()).find((f) => !f.endsWith(recent))!)).find((l) => l.type === 'notified')!;
    expect(notified.event).toMatchObject({ delivered: false, detail: 'nothing to report' });
  });

  it('SMTP down: bounded retries, the message waits in the outbox, and the next run delivers it (implicit TLS)', async () => {
    await brokenExim();
    // Nothing listens on this port of the lab address.
    const down = await writeConfig(smtpOptions({ smtp: { ...(smtpOptions().smtp as Mail), port: 2599 } }));
    const first = await check(down, {}, ['--json']);
    const report = JSON.parse(first.stdout) as { exitCode: number; logFile: string; notifications: { notifier: string; delivered: boolean; detail: string }[] };
    expect(first.code).toBe(report.exitCode); // mail trouble does not change the exit code
    expect(report.notifications).toEqual([
      {
        notifier: 'email',
        delivered: false,
        detail: expect.stringMatching(
          /^not sent \(MAIL_UNREACHABLE: cannot reach the SMTP server .*:2599 \(starttls\): .*ECONNREFUSED.*\); the message was written to /,
        ),
      },
    ]);

    const outbox = join(dir.path, 'state/outbox');
    const waiting = await readdir(outbox);
    expect(waiting).toHaveLength(1);
    expect((await stat(outbox)).mode & 0o777).toBe(0o700);
    expect((await stat(join(outbox, waiting[0]!))).mode & 0o777).toBe(0o600);
    const failed = (await logOf(report.logFile)).filter((l) => l.type === 'failed' && l.event.stage === 'notify');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.event).toMatchObject({ code: 'MAIL_UNREACHABLE', severity: 'warning' });
    expect(failed[0]!.event.next).toBe(`the message was written to ${join(outbox, waiting[0]!)}; the next run sends it`);
    expect(await receiver.messages()).toEqual([]);

    // Next run: the server is reachable (implicit TLS this time) and the sandbox is healthy again.
    await healthySandbox();
    const up = await writeConfig(smtpOptions({ smtp: { ...(smtpOptions().smtp as Mail), port: receiver.ports.smtps, security: 'tls' } }));
    const second = await check(up);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Notification \(email\): nothing to report; 1 of 1 waiting message\(s\) from the outbox .* sent/);
    expect(await readdir(outbox)).toEqual([]);
    const [raw] = await receiver.waitForMessages(1);
    const mail = await parse(raw!);
    expect(mail.subject).toBe('1 service(s) generated warnings while checking SSL certificates.');
    expect(mail.text).toContain(report.logFile); // it is the first run's message
    expect(await receiver.messages()).toHaveLength(1);
  });

  it('verifies the server: without the CA file STARTTLS fails, and the notice is kept', async () => {
    await brokenExim();
    const smtp = { ...(smtpOptions().smtp as Mail) };
    delete smtp.caFile;
    const result = await check(await writeConfig(smtpOptions({ smtp })));
    expect(result.stdout).toMatch(/Warning \(notify\): MAIL_TLS_FAILED: TLS with the SMTP server .* failed \(a private server needs smtp\.caFile\)/);
    expect(await outboxMessages()).toHaveLength(1);
    expect(await receiver.messages()).toEqual([]);
  });

  it('a refused login is a clear error in the log, without the password', async () => {
    await brokenExim();
    const smtp = { ...(smtpOptions().smtp as Mail), password: 'wrong-password' };
    const result = await check(await writeConfig(smtpOptions({ smtp })), {}, ['--json']);
    const report = JSON.parse(result.stdout) as { exitCode: number; logFile: string };
    expect(result.code).toBe(report.exitCode);
    const failed = (await logOf(report.logFile)).find((l) => l.type === 'failed' && l.event.stage === 'notify')!;
    expect(failed.event.code).toBe('MAIL_AUTH_REFUSED');
    expect(failed.event.message).toMatch(
      /^the SMTP server .*:2525 \(starttls\) refused the login of user "certsmith": 535 Incorrect authentication data \(check smtp\.user and smtp\.password or smtp\.passwordFile\)$/,
    );
    expect(JSON.stringify(await logLines())).not.toContain('wrong-password');
    expect(await outboxMessages()).toHaveLength(1);
    expect(await receiver.messages()).toEqual([]);
  });

  it('sends through the installed sendmail binary', async () => {
    await brokenExim();
    const result = await check(await writeConfig({ to: TO, sendmail: receiver.sendmail }));
    expect(result.stdout).toMatch(/Notification \(email\): sent to admin@example\.test via sendmail \(\/usr\/sbin\/exim4\)/);
    const [raw] = await receiver.waitForMessages(1);
    expect(raw).toMatch(/^Received: from root by mail\.example\.test with local/m); // local submission, no SMTP
    const mail = await parse(raw!);
    expect(mail.subject).toBe('1 service(s) generated warnings while checking SSL certificates.');
    expect([...htmlTables(mail.html as string).keys()]).toEqual(['exim']);
  });

  it('with no transport configured (the embedded default) the notice goes to the outbox', async () => {
    await brokenExim();
    const result = await check(await writeConfig(null));
    expect(result.stdout).toMatch(/Notification \(email\): no mail transport configured: the message was written to .*\/state\/outbox\/.*\.eml/);
    const [kept] = await outboxMessages();
    expect((await parse(kept!)).subject).toBe('1 service(s) generated warnings while checking SSL certificates.');
  });
});

describe('expiry notices', { timeout: 120_000 }, () => {
  const daysBeforeExpiry = (days: number) => new Date(good.notAfter.getTime() - days * 86_400_000).toISOString();

  it('warns of certificates expiring in under 30 days, and repeats it only after expiryNoticeRepeatDays', async () => {
    await healthySandbox();
    const config = await writeConfig(smtpOptions());
    const result = await check(config, { CERTSMITH_FAKE_NOW: daysBeforeExpiry(20) });
    expect(result.code).toBe(0);
    const [raw] = await receiver.waitForMessages(1);
    const mail = await parse(raw!);
    expect(mail.subject).toBe('4 service(s) generated warnings while checking SSL certificates.');
    expect(mail.text).toMatch(/The exim certificate for host\.sandbox\.test will expire in less than 30 days \(on .* UTC, 20\.0 days from now\)\./);
    expect([...htmlTables(mail.html as string).values()].map((rows) => rows.map((r) => r[0]))).toEqual([
      ['EXPIRES_SOON'],
      ['EXPIRES_SOON'],
      ['EXPIRES_SOON'],
      ['EXPIRES_SOON'],
    ]);

    // The next nightly run: the same certificates, already noticed (default: repeated after 7 days).
    const again = await check(config, { CERTSMITH_FAKE_NOW: daysBeforeExpiry(19) });
    expect(again.stdout).toContain('Notification (email): nothing to report');
    const weekLater = await check(config, { CERTSMITH_FAKE_NOW: daysBeforeExpiry(12) });
    expect(weekLater.stdout).toMatch(/Notification \(email\): sent to/);
    const both = await receiver.waitForMessages(2);
    expect((await parse(both[1]!)).text).toMatch(/will expire in less than 30 days \(on .* UTC, 12\.0 days from now\)/);
  });

  it('disable_service_certificate_management silences the expiry notices', async () => {
    await healthySandbox();
    const config = await writeConfig(smtpOptions({ expiryNoticeRepeatDays: 0 }));
    await mkdir(join(dir.path, 'state'), { recursive: true });
    await writeFile(join(dir.path, 'state/disable_service_certificate_management'), '');
    const soon = await check(config, { CERTSMITH_FAKE_NOW: daysBeforeExpiry(20) });
    expect(soon.stdout).toContain('Notification (email): nothing to report');
    const expired = await check(config, { CERTSMITH_FAKE_NOW: new Date(good.notAfter.getTime() + 86_400_000).toISOString() });
    expect(expired.stdout).toContain('Notification (email): nothing to report');
    expect(await receiver.messages()).toEqual([]);
  });

  it('says when an expired certificate was replaced by a self-signed one', async () => {
    await healthySandbox();
    await rm(join(dir.path, 'ssl/cpanel'), { recursive: true });
    await rm(join(dir.path, 'ssl/dovecot'), { recursive: true });
    await rm(join(dir.path, 'ssl/ftp'), { recursive: true });
    const config = await writeConfig(smtpOptions());
    const later = new Date(good.notAfter.getTime() + 86_400_000).toISOString();
    const result = await check(config, { CERTSMITH_FAKE_NOW: later });
    expect(result.stdout).toMatch(/Installed for exim/);
    const [raw] = await receiver.waitForMessages(1);
    const mail = await parse(raw!);
    expect(mail.text).toMatch(/The exim certificate for host\.sandbox\.test expired on .* UTC; a new self-signed certificate was installed\./);
    const exim = htmlTables(mail.html as string).get('exim')!;
    expect(exim[0]![0]).toBe('EXPIRED (OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED)');
    expect(exim[0]![2]).toMatch(/^self-signed certificate installed/);
  });
});
