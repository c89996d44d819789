// SIGINT and SIGTERM during `certsmith check`, end to end: the built CLI is held at each stage by a real slow part (a
// TLS endpoint that accepts and stalls, an nginx site that trickles the DCV probe, the issuing ACME double holding its
// finalize answer, a live proof against a server that keeps serving another certificate, a reload script that takes
// its time), the signal is sent once the stage is reached, and the run must say `interrupted`, exit 130/143, leave each
// service with its old pair or its new one (never a mix), release every lock, and let the next run finish normally.
import { spawn } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { access, lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_UNDER_TEST_PATH,
  cliNodeFlags,
  createCa,
  randomLoopback,
  runCli,
  startAcmeLab,
  startIssuingAcmeDouble,
  type AcmeLab,
  type IssuingAcmeDouble,
  type LabCert,
} from '@certsmith/testlab';

const HOST = 'int.example.test';
const SLOW = `slow.${HOST}`;
const LATER = new Date(Date.now() + 2 * 365 * 86_400_000).toISOString();
const EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

let lab: AcmeLab;
let double: IssuingAcmeDouble;
let seed: LabCert;
let other: LabCert;

beforeAll(async () => {
  const wk = (body: string) => `    location /.well-known/ { ${body} }\n`;
  lab = await startAcmeLab({
    name: 'interrupt-e2e',
    pebble: false,
    webNames: [HOST],
    pointedNames: [HOST],
    extraSites: ({ docroot }) => [{ serverNames: [SLOW], docroot, extra: wk('limit_rate 1;') }],
  });
  double = await startIssuingAcmeDouble({ validation: { http01: { address: lab.nginx.address, port: lab.nginx.httpPort } }, ari: false });
  const ca = await createCa(join(lab.dir, 'seed-ca'), { days: 30 });
  seed = await ca.issue(HOST, { days: 30 });
  other = await ca.issue('other.example.test', { days: 30 });
}, 120_000);

afterAll(async () => {
  await double?.stop();
  await lab?.stop();
});

/** The built CLI as a child process whose output is watched as it comes. */
function startCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [...cliNodeFlags(CLI_UNDER_TEST_PATH), CLI_UNDER_TEST_PATH, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const w of waiters.splice(0)) (w.pattern.test(stdout) ? w.resolve : () => waiters.push(w))();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    /** Resolves once stdout matches. */
    waitFor: (pattern: RegExp) => new Promise<void>((resolve) => (pattern.test(stdout) ? resolve() : waiters.push({ pattern, resolve }))),
    exited,
  };
}

/** A TCP server that accepts and never answers: a TLS endpoint stuck before its handshake. */
async function stallingServer(): Promise<{ server: Server; host: string; port: number; connected: Promise<void>; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  let onConnect!: () => void;
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    onConnect();
  });
  const host = randomLoopback();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { server, host, port: (server.address() as { port: number }).port, connected, close };
}

/** A TLS server that always serves `cert`, whatever the files say: a live proof of a new certificate never passes. */
async function staleTlsServer(cert: LabCert) {
  let onHandshake!: () => void;
  const handshake = new Promise<void>((resolve) => (onHandshake = resolve));
  // Any connection counts: a probe that has seen the certificate may drop the socket before the server's side is done.
  const server = createTlsServer({ cert: cert.certPem, key: cert.keyPem }, (socket) => socket.end());
  server.on('connection', () => onHandshake());
  const host = randomLoopback();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    host,
    port: (server.address() as { port: number }).port,
    handshake,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A config of its own (state and ssl dirs named after `name`) with Dovecot as the only service. */
async function config(name: string, dovecot: Record<string, unknown>, fields: Record<string, unknown> = {}): Promise<string> {
  return lab.writeConfig(name, {
    profile: 'full',
    hostname: HOST,
    services: { cpanel: false, exim: false, ftp: false, dovecot: { endpoints: [], reload: ['true'], ...dovecot } },
    ...fields,
  });
}

const sslOf = (name: string) => join(lab.dir, `ssl-${name}`, 'dovecot');
const stateOf = (name: string) => join(lab.dir, `state-${name}`);

/** Puts the seed pair where Dovecot's CA-signed layout reads it. */
async function seedDovecot(name: string): Promise<void> {
  await mkdir(sslOf(name), { recursive: true });
  await writeFile(join(sslOf(name), 'mydovecot.crt'), seed.certPem);
  await writeFile(join(sslOf(name), 'mydovecot.key'), seed.keyPem, { mode: 0o600 });
}

/** The leaf and whether the key file belongs to it, for whichever of Dovecot's two layouts is in place; null when none is. */
async function dovecotPair(name: string): Promise<{ fingerprint: string; matches: boolean } | null> {
  for (const [crt, key] of [
    ['mydovecot.crt', 'mydovecot.key'],
    ['dovecot.crt', 'dovecot.key'],
  ] as const) {
    const certText = await readFile(join(sslOf(name), crt), 'utf8').catch(() => null);
    if (certText === null) continue;
    const cert = new X509Certificate(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(certText)![0]);
    const keyText = await readFile(join(sslOf(name), key), 'utf8');
    return { fingerprint: createHash('sha256').update(cert.raw).digest('hex'), matches: cert.checkPrivateKey(createPrivateKey(keyText)) };
  }
  return null;
}

const fingerprintOf = (cert: LabCert) => createHash('sha256').update(new X509Certificate(cert.certPem).raw).digest('hex');

/** Every lock file (run lock, per-target locks, claims) left in a state directory. */
async function locksIn(name: string): Promise<string[]> {
  const top = (await readdir(stateOf(name)).catch(() => [] as string[])).filter((f) => f.startsWith('run.lock'));
  const targets = await readdir(join(stateOf(name), 'locks')).catch(() => [] as string[]);
  return [...top, ...targets.map((f) => `locks/${f}`)];
}

/** The records of the run's event log (its path is the summary's "Event log:" line). */
async function eventLog(stdout: string): Promise<{ type: string; event: Record<string, unknown> }[]> {
  const file = /^Event log: (.+)$/m.exec(stdout)![1]!;
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; event: Record<string, unknown> });
}

/** What every interrupted run must show. */
async function expectInterrupted(run: ReturnType<typeof startCli>, name: string, signal: keyof typeof EXIT): Promise<void> {
  const { code } = await run.exited;
  expect(code, run.out() + run.err()).toBe(EXIT[signal]);
  expect(run.out()).toContain(`Interrupted (${signal}): starting nothing new`);
  expect(run.out()).toContain(`Interrupted (${signal}): exit code ${EXIT[signal]}.`);
  expect(await locksIn(name)).toEqual([]);
  const records = await eventLog(run.out());
  expect(records.find((r) => r.type === 'interrupted')?.event).toEqual({ signal });
  expect(records.at(-1)).toMatchObject({ type: 'run-finished', event: { exitCode: EXIT[signal], interrupted: signal } });
}

describe('an interrupted check', { timeout: 180_000 }, () => {
  it('SIGTERM during the inspection (a live TLS probe that stalls): nothing written, and the next run finishes', async () => {
    const stall = await stallingServer();
    try {
      const file = await config('inspect', { endpoints: [{ host: stall.host, port: stall.port }] }, { inspection: { live: true, timeoutMs: 30_000 } });
      const run = startCli(['check', '--config', file]);
      await stall.connected;
      run.child.kill('SIGTERM');
      await expectInterrupted(run, 'inspect', 'SIGTERM');
      expect(run.out()).toMatch(/hostname \(int\.example\.test\): interrupted/);
      expect(run.out()).not.toContain('Service dovecot:'); // an inspection cut short is not reported
      await expect(access(sslOf('inspect'))).rejects.toThrow(/ENOENT/);
    } finally {
      await stall.close();
    }
    const next = await runCli(['check', '--config', await config('inspect', {})]);
    expect(next.code, next.stdout).toBe(0);
    expect((await dovecotPair('inspect'))?.matches).toBe(true);
  });

  it('SIGINT during local DCV (nginx trickles the probe): the probe file is removed, no order, and the next run finishes', async () => {
    const plugins = (readTimeoutMs: number) => [
      { module: '@certsmith/dcv-http', options: { docroot: lab.docroot, readTimeoutMs } },
      { module: '@certsmith/issuer-acme', options: { directoryUrl: double.directoryUrl, caFile: double.tlsCaFile } },
    ];
    const fields = (readTimeoutMs: number) => ({
      hostname: SLOW,
      issuers: ['acme', 'selfsigned'],
      plugins: plugins(readTimeoutMs),
      paths: { stateDir: './state-dcv', sslDir: './ssl-dcv' },
    });
    const orders = double.orderCount();
    const run = startCli(['check', '--verbose', '--config', await config('dcv', {}, fields(60_000))]);
    await run.waitFor(/DCV \(http-file\) for slow\.int\.example\.test: /);
    run.child.kill('SIGINT');
    await expectInterrupted(run, 'dcv', 'SIGINT');
    expect(run.out()).not.toMatch(/Local HTTP DCV error/); // a check cut short is no verdict
    expect(run.out()).not.toContain('Issued by');
    expect(double.orderCount()).toBe(orders);
    expect(await readdir(lab.docroot)).toEqual([]);
    expect(await dovecotPair('dcv')).toBeNull();
    const next = await runCli(['check', '--config', await config('dcv', {}, fields(1_000))]);
    expect(next.code, next.stdout).toBe(0);
    expect(next.stdout).toContain('Issued by "selfsigned"');
  });

  it('SIGTERM while the CA holds the finalize answer: no fallback, nothing installed; the next run orders and installs', async () => {
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    double.behave({ delay: { path: /^\/finalize\//, ms: 120_000, onHold: () => held() } });
    const file = await config(
      'order',
      {},
      {
        issuers: ['acme', 'selfsigned'],
        plugins: [lab.httpDcvPlugin, { module: '@certsmith/issuer-acme', options: { directoryUrl: double.directoryUrl, caFile: double.tlsCaFile } }],
      },
    );
    try {
      const run = startCli(['check', '--config', file], { SSL_CERT_FILE: double.rootFile });
      await holding;
      run.child.kill('SIGTERM');
      await expectInterrupted(run, 'order', 'SIGTERM');
      expect(run.out()).not.toContain('Issued by'); // not the self-signed fallback either
      expect(await dovecotPair('order')).toBeNull();
    } finally {
      double.behave({ delay: undefined });
    }
    const next = await runCli(['check', '--config', file], { env: { SSL_CERT_FILE: double.rootFile } });
    expect(next.code, next.stdout).toBe(0);
    expect(next.stdout).toContain('installed a certificate from "acme" for dovecot');
    expect((await dovecotPair('order'))?.matches).toBe(true);
  });

  it('SIGINT while a pending order is resumed: the saved order stays as it was, and the next run resumes it (no new order)', async () => {
    const fields = (maxWaitSeconds: number) => ({
      issuers: ['acme', 'selfsigned'],
      plugins: [
        lab.httpDcvPlugin,
        { module: '@certsmith/issuer-acme', options: { directoryUrl: double.directoryUrl, caFile: double.tlsCaFile, maxWaitSeconds } },
      ],
    });
    const env = { SSL_CERT_FILE: double.rootFile };
    // A wait bound of zero leaves the order pending at the CA, saved for the next run.
    const first = await runCli(['check', '--no-retry', '--config', await config('resume', {}, fields(0))], { env });
    expect(first.stdout, first.stdout).toContain('Order pending at "acme"');
    const pendingFile = join(stateOf('resume'), 'pending', 'hostname.acme.json');
    const saved = await readFile(pendingFile, 'utf8');
    const orders = double.orderCount();

    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    double.behave({ delay: { path: /^\/(order|authz|finalize)\//, ms: 120_000, onHold: () => held() } });
    const file = await config('resume', {}, fields(30));
    try {
      const run = startCli(['check', '--no-retry', '--config', file], env);
      await holding;
      run.child.kill('SIGINT');
      await expectInterrupted(run, 'resume', 'SIGINT');
      expect(run.out()).not.toContain('installed a certificate from "acme"');
    } finally {
      double.behave({ delay: undefined });
    }
    expect(await readFile(pendingFile, 'utf8')).toBe(saved);
    const next = await runCli(['check', '--no-retry', '--config', file], { env });
    expect(next.code, next.stdout).toBe(0);
    expect(next.stdout).toContain('installed a certificate from "acme" for dovecot');
    expect(double.orderCount()).toBe(orders);
    await expect(access(pendingFile)).rejects.toThrow(/ENOENT/);
  });

  it('SIGINT during the live proof of an install: the install is finished by its rollback (old pair back), then the run stops', async () => {
    await seedDovecot('install');
    const stale = await staleTlsServer(other);
    try {
      const file = await config('install', { endpoints: [{ host: stale.host, port: stale.port }], proofTimeoutMs: 3_000 });
      const run = startCli(['check', '--config', file], { CERTSMITH_FAKE_NOW: LATER });
      await stale.handshake;
      run.child.kill('SIGINT');
      await expectInterrupted(run, 'install', 'SIGINT');
      // The rollback's proof of the old certificate fails too (the server serves neither): said, and the files are the old pair.
      expect(await dovecotPair('install')).toEqual({ fingerprint: fingerprintOf(seed), matches: true });
      expect(run.out()).toContain('new certificate not installed (rolled back; the previous certificate stays)');
      expect(run.out()).not.toMatch(/new certificate installed/);
    } finally {
      await stale.close();
    }
    const next = await runCli(['check', '--config', await config('install', {})], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(next.code, next.stdout).toBe(0);
    expect((await dovecotPair('install'))?.matches).toBe(true);
  });

  it('SIGTERM during the reload: the reload finishes, the new pair is installed and reloaded, then the run stops', async () => {
    await seedDovecot('reload');
    const marker = join(lab.dir, 'reload-started');
    const file = await config('reload', { reload: ['sh', '-c', `touch ${marker}; sleep 3`] });
    const run = startCli(['check', '--config', file], { CERTSMITH_FAKE_NOW: LATER });
    await waitForFile(marker);
    run.child.kill('SIGTERM');
    await expectInterrupted(run, 'reload', 'SIGTERM');
    expect(run.out()).toContain('Installed for dovecot');
    expect(run.out()).toMatch(/hostname \(int\.example\.test\): replaced/);
    const pair = await dovecotPair('reload');
    expect(pair?.matches).toBe(true);
    expect(pair?.fingerprint).not.toBe(fingerprintOf(seed));
    const next = await runCli(['check', '--config', file], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(next.code, next.stdout).toBe(0);
    expect(next.stdout).toContain('TLS Status: OK');
  });

  it('a second SIGINT during the reload changes nothing: the install completes, exit 130, --json says interrupted', async () => {
    await seedDovecot('twice');
    const marker = join(lab.dir, 'twice-started');
    const file = await config('twice', { reload: ['sh', '-c', `touch ${marker}; sleep 3`] });
    const run = startCli(['check', '--json', '--config', file], { CERTSMITH_FAKE_NOW: LATER });
    await waitForFile(marker);
    run.child.kill('SIGINT');
    run.child.kill('SIGINT');
    const { code, signal } = await run.exited;
    expect(signal).toBeNull(); // not killed by Node's default handler
    expect(code, run.err()).toBe(130);
    const report = JSON.parse(run.out()) as { interrupted?: string; targets: { result: string; services: { installed?: unknown }[] }[] };
    expect(report.interrupted).toBe('SIGINT');
    expect(report.targets[0]!.result).toBe('replaced');
    expect(report.targets[0]!.services[0]!.installed).toBeDefined();
    expect((await dovecotPair('twice'))?.matches).toBe(true);
    expect(await locksIn('twice')).toEqual([]);
    // Nothing of the install is left to recover: no journal, no dangling link.
    expect(await readdir(join(stateOf('twice'), 'installs')).catch(() => [])).toEqual([]);
    for (const entry of await readdir(sslOf('twice'))) await expect(access(join(sslOf('twice'), entry))).resolves.toBeUndefined();
    expect((await lstat(join(sslOf('twice'), '.certsmith'))).isDirectory()).toBe(true);
  });
});

async function waitForFile(path: string): Promise<void> {
  for (;;) {
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
