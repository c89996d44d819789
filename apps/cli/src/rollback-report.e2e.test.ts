// A rolled-back install is reported as what it is, end to end: when the reload fails, the built CLI puts the previous
// files back and no report says the service got the new certificate (the log's summary, --json, the event log's
// run-finished record, the mail); after a first install, nothing of the new files is left: no link, no store.
import { X509Certificate, createHash } from 'node:crypto';
import { access, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, labDir, runCli, type LabCert } from '@certsmith/testlab';

const HOST = 'rb.example.test';
/** Two years ahead: the seed certificate has expired by then, so the run replaces it. */
const LATER = new Date(Date.now() + 2 * 365 * 86_400_000).toISOString();

let dir: { path: string; cleanup: () => Promise<void> };
let seed: LabCert;

beforeAll(async () => {
  dir = await labDir('rollback-report-e2e');
  seed = await (await createCa(join(dir.path, 'ca'), { days: 30 })).issue(HOST, { days: 30 });
});
afterAll(() => dir?.cleanup());

/** Dovecot only, a reload command that fails, the mail written to an outbox. */
async function config(name: string): Promise<string> {
  const file = join(dir.path, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({
      hostname: HOST,
      paths: { stateDir: `./state-${name}`, sslDir: `./ssl-${name}` },
      inspection: { live: false },
      services: { cpanel: false, exim: false, ftp: false, dovecot: { reload: ['sh', '-c', 'echo "dovecot: config error" >&2; exit 1'] } },
      plugins: [{ module: '@certsmith/notify-email', options: { outboxDir: `./outbox-${name}` } }],
    }),
  );
  return file;
}

interface JsonReport {
  targets: { result: string; actions: string[]; services: { service: string; installed?: unknown; rolledBack?: boolean }[] }[];
}

/** Checks every report of a run whose Dovecot install was rolled back. */
async function expectRolledBackEverywhere(name: string, human: string, json: string): Promise<void> {
  expect(human).toContain('Error (install, service dovecot): RELOAD_FAILED');
  expect(human).toContain('dovecot: Defective');
  expect(human).toContain('new certificate not installed (rolled back; the previous certificate stays)');
  expect(human).toContain('not installed for dovecot: rolled back, the previous certificate stays (see the errors)');
  expect(human).not.toMatch(/new certificate installed|installed a self-signed certificate|Installed for dovecot/);

  const report = JSON.parse(json) as JsonReport;
  const [target] = report.targets;
  expect(target!.result).toBe('failed');
  expect(target!.services).toEqual([expect.objectContaining({ service: 'dovecot', rolledBack: true })]);
  expect(target!.services[0]!.installed).toBeUndefined();
  expect(target!.actions.some((a) => a.startsWith('installed'))).toBe(false);

  const logFile = /^Event log: (.+)$/m.exec(human)![1]!;
  const records = (await readFile(logFile, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; event: Record<string, unknown> });
  expect(records.some((r) => r.type === 'installed')).toBe(false);
  expect(records.at(-1)).toMatchObject({ type: 'run-finished', event: { targets: [{ result: 'failed', installed: [], rolledBack: ['dovecot'] }] } });

  const outbox = join(dir.path, `outbox-${name}`);
  const mails = await Promise.all((await readdir(outbox)).map((f) => readFile(join(outbox, f), 'utf8')));
  expect(mails.length).toBeGreaterThan(0);
  for (const mail of mails) {
    expect(mail).not.toMatch(/certificate installed/);
    expect(mail).toContain('RELOAD_FAILED');
    expect(mail.replace(/=\r?\n/g, '')).toContain('new certificate rolled back: the previous certificate stays');
  }
}

describe('a failed reload rolls back, and every report says so', { timeout: 60_000 }, () => {
  it('over a certificate in place: the previous pair is back; the log, --json, run-finished and the mail say rolled back', async () => {
    const ssl = join(dir.path, 'ssl-existing', 'dovecot');
    await mkdir(ssl, { recursive: true });
    await writeFile(join(ssl, 'mydovecot.crt'), seed.certPem);
    await writeFile(join(ssl, 'mydovecot.key'), seed.keyPem, { mode: 0o600 });
    const file = await config('existing');
    const human = await runCli(['check', '--config', file], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(human.code, human.stdout).toBe(1);
    const json = await runCli(['check', '--json', '--config', file], { env: { CERTSMITH_FAKE_NOW: LATER } });
    await expectRolledBackEverywhere('existing', human.stdout, json.stdout);
    expect(await readFile(join(ssl, 'mydovecot.crt'), 'utf8')).toBe(seed.certPem);
    expect(await readFile(join(ssl, 'mydovecot.key'), 'utf8')).toBe(seed.keyPem);
    expect(fingerprint(await readFile(join(ssl, 'mydovecot.crt'), 'utf8'))).toBe(fingerprint(seed.certPem));
  });

  it('a first install (no certificate before): no dangling link, no stray file, not even the service directory', async () => {
    const file = await config('first');
    const human = await runCli(['check', '--config', file], { env: { CERTSMITH_FAKE_NOW: LATER } });
    expect(human.code, human.stdout).toBe(1);
    const json = await runCli(['check', '--json', '--config', file], { env: { CERTSMITH_FAKE_NOW: LATER } });
    await expectRolledBackEverywhere('first', human.stdout, json.stdout);
    await expect(access(join(dir.path, 'ssl-first', 'dovecot'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(dir.path, 'ssl-first'))).toEqual([]);
    expect(await readdir(join(dir.path, 'state-first', 'installs')).catch(() => [])).toEqual([]);
  });
});

function fingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}
