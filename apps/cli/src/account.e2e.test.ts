// The ACME account end to end: the built CLI against Debian's Pebble (EAB required), names in the lab's BIND,
// http-01 from nginx, dns-01 by TSIG-signed updates. One account for two runs started together (the account lock),
// an EAB key Pebble does not know, an account the CA forgot (Pebble restarted), an account file edited into
// nonsense, and planted secrets (the EAB HMAC key, the TSIG secret) that must appear nowhere but in their own files.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomLoopback, runCli, sleep, startAcmeLab, type AcmeLab, type Pebble, type RunResult } from '@certsmith/testlab';

const HOST = `acct-${randomBytes(3).toString('hex')}.example.test`;
const NAMES = [`www.${HOST}`];
const SHOP = [`shop.${HOST}`];
// Planted: recognisable, base64url, and beginning with '-' as Pebble's keys do in the lab.
const EAB = { kid: 'kid-planted', hmacKey: '-PLANTED-eab-hmac-key-must-never-leak-0000' };

let lab: AcmeLab;
let tsigSecret: string;
/** Every CLI run of this file: none may show a planted secret. */
const outputs: RunResult[] = [];

beforeAll(async () => {
  expect(Buffer.from(EAB.hmacKey, 'base64url').length).toBeGreaterThanOrEqual(16);
  lab = await startAcmeLab({ name: 'account-e2e', webNames: [HOST, ...NAMES, ...SHOP], pebble: { eabKey: EAB } });
  await lab.copyTsigKey();
  tsigSecret = /secret\s+"([^"]+)"/.exec(await readFile(lab.dns.tsigKeyFile, 'utf8'))![1]!;
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

interface Setup {
  name: string;
  ca?: Pebble;
  eab?: { kid: string; hmacKey: string };
  /** Shares a state directory between configs (the default is the config's own). */
  stateDir?: string;
  dnsOnly?: boolean;
  options?: Record<string, unknown>;
}

/** A sandbox config: the hostname target (cPanel's services) and a site target "shop" (files), EAB from a 0600 file. */
async function config(setup: Setup): Promise<string> {
  const issuer = {
    module: '@certsmith/issuer-acme',
    options: { ...(await lab.acmeIssuerOptions(setup.name, { ca: setup.ca, eab: setup.eab ?? EAB })), issuerPatterns: ['Pebble'], ...setup.options },
  };
  const paths = { stateDir: setup.stateDir ?? `./state-${setup.name}`, sslDir: `./ssl-${setup.name}` };
  return lab.writeConfig(
    setup.name,
    setup.dnsOnly
      ? {
          profile: 'dnsonly',
          hostname: HOST,
          names: [`ns.${HOST}`],
          paths,
          plugins: [{ module: '@certsmith/dcv-dns', options: { tsigKeyFile: './tsig.key' } }, issuer],
          issuers: ['acme', 'selfsigned'],
          server: undefined,
          dns: { rootHints: lab.dns.rootHintsFile, port: 53, timeoutMs: 1_000 },
        }
      : {
          profile: 'full',
          hostname: HOST,
          names: NAMES,
          paths,
          plugins: [lab.httpDcvPlugin, { module: '@certsmith/installer-files' }, issuer],
          issuers: ['acme', 'selfsigned'],
          targets: [{ id: 'shop', names: SHOP, services: ['files'] }],
        },
  );
}

async function cli(args: string[]): Promise<RunResult> {
  const result = await runCli(args);
  outputs.push(result);
  return result;
}

interface JsonReport {
  exitCode: number;
  logFile: string;
  targets: { target: string; result: string; actions: string[]; failures: { code: string; message: string; issuer?: string; next: string }[] }[];
}

const probeHits = () => lab.webHits('/.well-known/pki-validation/');

describe('the ACME account through the CLI (Pebble, EAB)', { timeout: 180_000 }, () => {
  it('two runs started together on a fresh state directory (check --target hostname, check --target shop) make one account: the second waits for the account lock', async () => {
    const file = await config({ name: 'together' });
    const stateDir = join(lab.dir, 'state-together');
    const account = join(stateDir, 'issuers', 'acme', 'account.json');
    // Hold the account lock (a live pid: this test) until both runs are past local DCV, so that both really wait.
    await mkdir(join(stateDir, 'issuers', 'acme'), { recursive: true, mode: 0o700 });
    await writeFile(join(stateDir, 'issuers', 'acme', 'account.lock'), `${process.pid}\n`);
    const accounts = lab.pebble.accountCount();
    const requests = lab.pebble.newAccountRequests();
    const hits = await probeHits();
    let finished = 0;
    const runs = [cli(['check', '--target', 'hostname', '--config', file]), cli(['check', '--target', 'shop', '--config', file])].map((p) =>
      p.finally(() => finished++),
    );
    // HOST, www and shop each get a local DCV probe before their issuer is asked.
    for (let i = 0; (await probeHits()) - hits < 3 && i < 600; i++) await sleep(50);
    await sleep(500);
    expect(finished).toBe(0); // waiting, not failed
    expect(lab.pebble.newAccountRequests() - requests).toBe(0);
    await rm(join(stateDir, 'issuers', 'acme', 'account.lock')); // released
    const [hostname, shop] = await Promise.all(runs);
    expect(hostname!.stderr + shop!.stderr).toBe('');
    expect(hostname!.stdout).toMatch(/installed a certificate from "acme" for cpanel, dovecot, exim, ftp/);
    expect(shop!.stdout).toMatch(/installed a certificate from "acme" for files/);
    expect(hostname!.code).toBe(0);
    expect(shop!.code).toBe(0);
    // Pebble saw one account, registered once; one account file, no lock left behind.
    expect(lab.pebble.accountCount() - accounts).toBe(1);
    expect(lab.pebble.newAccountRequests() - requests).toBe(1);
    const stored = JSON.parse(await readFile(account, 'utf8')) as { url: string; eab: { kid: string; boundAt: string } };
    expect(stored.url).toMatch(/^https:\/\/.*\/my-account\//);
    expect(stored.eab.kid).toBe(EAB.kid);
    expect((await readdir(join(stateDir, 'issuers', 'acme'))).filter((f) => f.startsWith('account'))).toEqual(['account.json']);
  });

  it('another run holding the account lock too long: ACCOUNT_LOCKED after accountLockWaitSeconds, the fallback, no account made', async () => {
    const file = await config({ name: 'held', options: { accountLockWaitSeconds: 1 } });
    const lock = join(lab.dir, 'state-held', 'issuers', 'acme', 'account.lock');
    await mkdir(join(lock, '..'), { recursive: true, mode: 0o700 });
    await writeFile(lock, `${process.pid}\n`); // a live process that never lets go
    const requests = lab.pebble.newAccountRequests();
    const result = await cli(['check', '--json', '--target', 'hostname', '--config', file]);
    const report = JSON.parse(result.stdout) as JsonReport;
    const failure = report.targets[0]!.failures.find((f) => f.issuer === 'acme')!;
    expect(failure.code).toBe('ACCOUNT_LOCKED');
    expect(failure.message).toBe(
      `waited 1 s for ${lock}, held by pid ${process.pid} while it sets up the ACME account: the next run tries again (remove the file only if no certsmith process is running)`,
    );
    expect(report.targets[0]!.result).toBe('replaced'); // self-signed meanwhile
    expect(lab.pebble.newAccountRequests() - requests).toBe(0);
    expect(await readFile(lock, 'utf8')).toBe(`${process.pid}\n`);
  });

  it('an EAB key id the CA does not know: EAB_KEY_UNKNOWN for every target with what to do, the CA asked once, the self-signed fallback', async () => {
    const eab = { kid: 'kid-nobody-knows', hmacKey: EAB.hmacKey };
    const requests = lab.pebble.newAccountRequests();
    const human = await cli(['check', '--config', await config({ name: 'unknown', eab })]);
    expect(human.stderr).toBe('');
    const keyFile = join(lab.dir, 'unknown.eab');
    const line = `Warning (issue, issuer acme): EAB_KEY_UNKNOWN: the CA at ${new URL(lab.pebble.directoryUrl).host} does not know the EAB key id "kid-nobody-knows" (the field 'kid' references a key that is not known to the ACME server): check the issuer's eab.kid, or ask the CA at ${new URL(lab.pebble.directoryUrl).host} for a new EAB key, then put its key id in the issuer's eab.kid and its HMAC key in ${keyFile} (mode 0600) → try issuer "selfsigned"`;
    expect(human.stdout.split('\n').filter((l) => l.trim() === line)).toHaveLength(2); // hostname and shop
    expect(human.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    expect(human.stdout).toMatch(/installed a self-signed certificate for files/);
    expect(human.stdout).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
    expect(lab.pebble.newAccountRequests() - requests).toBe(1);

    const json = await cli(['check', '--json', '--config', await config({ name: 'unknown-json', eab })]);
    const report = JSON.parse(json.stdout) as JsonReport;
    const failures = report.targets.map((t) => t.failures.find((f) => f.issuer === 'acme'));
    expect(failures.map((f) => f?.code)).toEqual(['EAB_KEY_UNKNOWN', 'EAB_KEY_UNKNOWN']);
    expect(failures[0]!.message).toBe(failures[1]!.message);
    expect(report.targets.map((t) => t.result)).toEqual(['replaced', 'replaced']);
    expect(lab.pebble.newAccountRequests() - requests).toBe(2);
  });

  it('an account file edited into nonsense: ACCOUNT_FILE_INVALID naming it, the fallback for every target, the file left as it was', async () => {
    const file = await config({ name: 'nonsense' });
    const account = join(lab.dir, 'state-nonsense', 'issuers', 'acme', 'account.json');
    await mkdir(join(account, '..'), { recursive: true });
    const nonsense = '{"directoryUrl": "https://example.test/dir", "keyPem": <<edited by hand>> }\n';
    await writeFile(account, nonsense, { mode: 0o600 });
    const requests = lab.pebble.newAccountRequests();
    const result = await cli(['check', '--config', file]);
    expect(result.stderr).toBe('');
    const line = `Warning (issue, issuer acme): ACCOUNT_FILE_INVALID: ${account} is not a certsmith account file (not JSON): move it aside to register a new account; it is left as it is, as it may hold the only copy of an account key → try issuer "selfsigned"`;
    expect(result.stdout.split('\n').filter((l) => l.trim() === line)).toHaveLength(2);
    expect(result.stdout).toMatch(/installed a self-signed certificate for cpanel, dovecot, exim, ftp/);
    expect(result.code).toBe(0);
    expect(await readFile(account, 'utf8')).toBe(nonsense);
    expect(lab.pebble.newAccountRequests() - requests).toBe(0);

    const json = JSON.parse(
      (await cli(['check', '--json', '--config', await config({ name: 'nonsense', stateDir: './state-nonsense' })])).stdout,
    ) as JsonReport;
    // The services have the self-signed stopgap now (healthy for the files target); the hostname's upgrade is asked again.
    expect(json.targets.flatMap((t) => t.failures).filter((f) => f.code === 'ACCOUNT_FILE_INVALID').length).toBeGreaterThan(0);
    expect(await readFile(account, 'utf8')).toBe(nonsense);
  });

  it('the CA forgot an account bound with EAB (Pebble restarted): ACME_ACCOUNT_GONE, the key not sent again; a new EAB key then registers a new account', async () => {
    const address = randomLoopback();
    const first = { kid: 'kid-first', hmacKey: randomBytes(32).toString('base64url') };
    let ca = await lab.startPebble({ address, eabKey: first });
    try {
      const bound = await cli(['check', '--config', await config({ name: 'gone-1', ca, eab: first, stateDir: './state-gone' })]);
      expect(bound.stdout).toMatch(/installed a certificate from "acme" for cpanel/);
      const account = join(lab.dir, 'state-gone', 'issuers', 'acme', 'account.json');
      const before = await readFile(account, 'utf8');
      const url = (JSON.parse(before) as { url: string }).url;

      // Same address, memory wiped; it knows only a new EAB key.
      await ca.stop();
      const second = { kid: 'kid-second', hmacKey: randomBytes(32).toString('base64url') };
      ca = await lab.startPebble({ address, eabKey: second });
      const gone = await cli(['check', '--json', '--config', await config({ name: 'gone-2', ca, eab: first, stateDir: './state-gone' })]);
      const report = JSON.parse(gone.stdout) as JsonReport;
      const failures = report.targets.map((t) => t.failures.find((f) => f.issuer === 'acme'));
      expect(failures.map((f) => f?.code)).toEqual(['ACME_ACCOUNT_GONE', 'ACME_ACCOUNT_GONE']);
      expect(failures[0]!.message).toMatch(
        new RegExp(
          `^the CA no longer knows the account ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} in ${account.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(Account .* not found\\.\\); it was registered with EAB key id "kid-first" on \\S+, which is not sent again: ask the CA at ${address}:14000 for a new EAB key`,
        ),
      );
      expect(report.targets.map((t) => t.result)).toEqual(['replaced', 'replaced']); // self-signed for the fresh sandbox
      expect(ca.newAccountRequests()).toBe(0);
      expect(await readFile(account, 'utf8')).toBe(before);

      // The administrator puts the new key in place: the next run registers with it and keeps the old file aside.
      const renewed = await cli(['check', '--config', await config({ name: 'gone-3', ca, eab: second, stateDir: './state-gone' })]);
      expect(renewed.stdout).toMatch(/installed a certificate from "acme" for cpanel, dovecot, exim, ftp/);
      expect(renewed.code).toBe(0);
      expect(ca.accountCount()).toBe(1);
      const now = JSON.parse(await readFile(account, 'utf8')) as { url: string; eab: { kid: string } };
      expect(now.eab.kid).toBe('kid-second');
      expect(now.url).not.toBe(url);
      const aside = (await readdir(join(account, '..'))).filter((f) => f.startsWith('account.json.gone-'));
      expect(aside).toHaveLength(1);
      expect(await readFile(join(account, '..', aside[0]!), 'utf8')).toBe(before);
    } finally {
      await ca.stop();
    }
  });

  it('dns-01 with a TSIG key and EAB (verbose), then a refused key (--json, a notice to the outbox): no planted secret anywhere but in its own file', async () => {
    const ok = await cli(['check', '--verbose', '--config', await config({ name: 'secrets', dnsOnly: true })]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/installed a certificate from "acme" for cpanel/);
    expect(ok.stdout).toContain(`_acme-challenge.${HOST}`);
    const refused = await cli([
      'check',
      '--json',
      '--config',
      await config({ name: 'secrets-refused', dnsOnly: true, eab: { kid: 'kid-nobody-knows', hmacKey: EAB.hmacKey } }),
    ]);
    expect((JSON.parse(refused.stdout) as JsonReport).targets[0]!.failures.map((f) => f.code)).toContain('EAB_KEY_UNKNOWN');

    // Everything this file's runs wrote: outputs, event logs, outbox mail, account and pending state, installed files.
    const seen = { logs: 0, outbox: 0, files: 0 };
    const walk = async (d: string): Promise<void> => {
      for (const entry of await readdir(d, { withFileTypes: true })) {
        const path = join(d, entry.name);
        if (entry.isDirectory()) {
          if (path !== lab.docroot) await walk(path);
          continue;
        }
        if (!entry.isFile()) continue; // links point at files the walk reads anyway
        if (/\.eab$/.test(entry.name) || entry.name === 'tsig.key') continue; // the key files themselves
        const text = await readFile(path, 'latin1');
        expect(text, `a planted secret is in ${path}`).not.toContain(EAB.hmacKey);
        expect(text, `the TSIG secret is in ${path}`).not.toContain(tsigSecret);
        seen.files++;
        if (path.includes('/logs/') && entry.name.endsWith('.jsonl')) seen.logs++;
        if (path.includes('/outbox/') && entry.name.endsWith('.eml')) seen.outbox++;
      }
    };
    await walk(lab.dir);
    for (const output of outputs) {
      for (const secret of [EAB.hmacKey, tsigSecret]) expect(output.stdout + output.stderr).not.toContain(secret);
    }
    // The scan saw what it is about: every run's event log, and the notices of the runs that had warnings.
    expect(seen.logs).toBeGreaterThanOrEqual(outputs.length);
    expect(seen.outbox).toBeGreaterThan(0);
    expect(outputs.some((o) => o.stdout.startsWith('{'))).toBe(true);
  });
});
