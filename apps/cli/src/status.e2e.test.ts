// `certsmith status` end to end through the built CLI: what `check` installed on a sandbox (names, issuer, not-after,
// days left, "not due"), an order left pending at Debian's Pebble (its VA sleeps beyond the test) with how long it has
// waited and the name dropped by local DCV, and state edited into nonsense. Status reads files only: every test
// checks that it changed nothing.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { labDir, runCli, startAcmeLab, type AcmeLab } from '@certsmith/testlab';

interface StatusJson {
  hostname: string;
  lastRun: { finishedAt: string; exitCode: number; targets: number } | null;
  targets: {
    target: string;
    names: string[];
    services: {
      service: string;
      file: string | null;
      certificate: { issuer: string; notAfter: string; names: string[]; selfSigned: boolean } | null;
      profile: string | null;
      daysLeft: number | null;
      renewal: { due: boolean; rule: string; dueAt: string | null; reason: string };
      missingNames: string[];
    }[];
    pending: { issuer: string; order: string; names: string[]; createdAt: string; waitedSeconds: number; heldBy: string }[];
    lastRun: { result: string; at: string; dropped: { name: string; code: string; reason: string }[] } | null;
  }[];
}

/** Every file and directory under a directory with its mtime and size, to show a command wrote nothing. */
async function snapshot(root: string): Promise<string> {
  const entries: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true }).catch(() => [])).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      const info = await stat(path);
      entries.push(`${path} ${info.mtimeMs} ${info.size} ${info.mode}`);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return entries.join('\n');
}

describe('certsmith status on the sandbox layout', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let config: string;
  beforeEach(async () => {
    dir = await labDir('status');
    // config/sandbox.json with the sandbox's paths in this test's directory.
    const sandbox = JSON.parse(await readFile(new URL('../../../config/sandbox.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    delete sandbox.$schema;
    config = join(dir.path, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        ...sandbox,
        names: ['mail.sandbox.test'],
        paths: { stateDir: './state', sslDir: './ssl', logDir: './logs' },
        plugins: [{ module: '@certsmith/notify-email', options: { outboxDir: './outbox' } }],
      }),
    );
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  it('before any run: no certificate, due; after check: what it installed, with days left and not due (human and --json)', async () => {
    const before = await runCli(['status', '--config', config]);
    expect(before.stderr).toBe('');
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('Last run: none recorded yet (certsmith check writes it)\n');
    expect(before.stdout).toContain('  cpanel   no certificate: no certificate is installed\n');

    const check = await runCli(['check', '--config', config]);
    expect(check.code, check.stderr).toBe(0);
    const files = await snapshot(dir.path);

    const human = await runCli(['status', '--config', config]);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^certsmith status on host\.sandbox\.test \(.*config\.json\), \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
    expect(human.stdout).toMatch(/\nLast run: finished \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+s ago\), exit 0, 1 target\n/);
    expect(human.stdout).toContain('\nhostname (host.sandbox.test, mail.sandbox.test): last run: replaced (');
    for (const service of ['cpanel', 'dovecot', 'exim', 'ftp'])
      expect(human.stdout).toMatch(
        new RegExp(
          `\\n  ${service} +issuer CN=host\\.sandbox\\.test.* \\(self-signed\\); not after \\S+ \\S+ UTC; 36[45] days left; not due \\(threshold: due \\S+ \\S+ UTC, the 3-day threshold for other certificates\\)\\n`,
        ),
      );

    const json = await runCli(['status', '--json', '--config', config]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as StatusJson;
    expect(report.lastRun).toMatchObject({ exitCode: 0, targets: 1 });
    const [target] = report.targets;
    expect(target).toMatchObject({
      target: 'hostname',
      names: ['host.sandbox.test', 'mail.sandbox.test'],
      pending: [],
      lastRun: { result: 'replaced', dropped: [] },
    });
    expect(target!.services.map((s) => s.service)).toEqual(['cpanel', 'dovecot', 'exim', 'ftp']);
    for (const service of target!.services) {
      expect(service.certificate).toMatchObject({ names: ['host.sandbox.test', 'mail.sandbox.test'], selfSigned: true });
      expect(service.certificate!.issuer).toContain('CN=host.sandbox.test');
      expect(service.daysLeft).toBeGreaterThanOrEqual(364);
      expect(service.renewal).toMatchObject({ due: false, rule: 'threshold' });
      expect(Date.parse(service.renewal.dueAt!)).toBe(Date.parse(service.certificate!.notAfter) - 3 * 86_400_000);
      expect(service.missingNames).toEqual([]);
    }
    expect(await snapshot(dir.path)).toBe(files);

    // Near its end (CERTSMITH_FAKE_NOW), the same certificate is due by the 3-day threshold.
    const late = new Date(Date.parse(target!.services[0]!.certificate!.notAfter) - 2 * 86_400_000).toISOString();
    const due = JSON.parse((await runCli(['status', '--json', '--config', config], { env: { CERTSMITH_FAKE_NOW: late } })).stdout) as StatusJson;
    expect(due.targets[0]!.services[0]).toMatchObject({ daysLeft: 2, renewal: { due: true, rule: 'threshold' } });
  });

  it('--target picks targets; an unknown one is one line and exit 2', async () => {
    const json = JSON.parse((await runCli(['status', '--json', '--target', 'mail.sandbox.test', '--config', config])).stdout) as StatusJson;
    expect(json.targets.map((t) => t.target)).toEqual(['hostname']);
    const unknown = await runCli(['status', '--target', 'nope.test', '--config', config]);
    expect(unknown.stderr).toBe('certsmith: UNKNOWN_TARGET: --target nope.test: no target has that id or name (targets: hostname)\n');
    expect(unknown.code).toBe(2);
  });

  it('a state directory edited into nonsense: one line naming the file and what is wrong, exit 2, nothing changed', async () => {
    expect((await runCli(['check', '--config', config])).code).toBe(0);
    const state = join(dir.path, 'state');
    const lastRun = join(state, 'last-run.json');
    const good = await readFile(lastRun, 'utf8');
    const cases: [string, string, string][] = [
      [lastRun, '{"version": 1, "run": ', `certsmith: STATE_INVALID: ${lastRun}: not JSON (`],
      [lastRun, good.replace('"result":"replaced"', '"result":7'), `certsmith: STATE_INVALID: ${lastRun}: "targets.hostname.result" is not a string\n`],
      [lastRun, '[]', `certsmith: STATE_INVALID: ${lastRun}: not a JSON object\n`],
    ];
    for (const [file, text, line] of cases) {
      await writeFile(file, text);
      const files = await snapshot(dir.path);
      for (const args of [[], ['--json']]) {
        const result = await runCli(['status', ...args, '--config', config]);
        expect(result.stderr.startsWith(line), result.stderr).toBe(true);
        expect(result.stderr.split('\n')).toHaveLength(2);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
      }
      expect(await snapshot(dir.path)).toBe(files);
    }
    await writeFile(lastRun, good);

    const pending = join(state, 'pending', 'hostname.acme.json');
    await mkdir(join(state, 'pending'));
    for (const [text, what] of [
      ['{"order": {', 'not JSON ('],
      [
        JSON.stringify({ order: { target: 'hostname', issuer: 'acme', reference: 'r', names: ['host.sandbox.test'], createdAt: 'yesterday' } }),
        '"order.createdAt" is not a date ("yesterday")\n',
      ],
    ]) {
      await writeFile(pending, text!);
      const files = await snapshot(dir.path);
      const result = await runCli(['status', '--config', config]);
      expect(result.stderr.startsWith(`certsmith: PENDING_STATE_INVALID: the pending-order file ${pending} is not usable: ${what}`), result.stderr).toBe(true);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expect(result.code).toBe(2);
      expect(await snapshot(dir.path)).toBe(files);
    }
  });
});

describe('certsmith status with an order pending at the CA and a name dropped by local DCV', { timeout: 120_000 }, () => {
  const HOST = `stat-${randomBytes(3).toString('hex')}.example.test`;
  const WWW = `www.${HOST}`;
  const NOPE = `nope.${HOST}`;
  const T0 = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  let lab: AcmeLab;
  let config: string;

  beforeAll(async () => {
    // Pebble's VA sleeps far beyond the test: the order stays pending (as pending.e2e.test.ts does). NOPE has no
    // address in the lab's DNS: local DCV drops it from the order.
    lab = await startAcmeLab({
      name: 'status-e2e',
      webNames: [HOST, WWW, NOPE],
      pointedNames: [HOST, WWW],
      pebble: { env: { PEBBLE_VA_NOSLEEP: '0', PEBBLE_VA_SLEEPTIME: '1000000' } },
    });
    config = await lab.writeConfig('config', {
      profile: 'full',
      hostname: HOST,
      names: [WWW, NOPE],
      paths: { stateDir: './state', sslDir: './ssl' },
      plugins: [lab.httpDcvPlugin, { module: '@certsmith/issuer-acme', options: { ...(await lab.acmeIssuerOptions('config')), maxWaitSeconds: 0 } }],
      issuers: ['acme', 'selfsigned'],
    });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('shows the pending order with how long it has waited and who holds it, and the dropped name with its reason', async () => {
    const check = await runCli(['check', '--config', config, '--no-retry'], { env: { CERTSMITH_FAKE_NOW: T0.toISOString() } });
    expect(check.stdout).toContain('Order pending at "acme"');
    const saved = JSON.parse(await readFile(join(lab.dir, 'state', 'pending', 'hostname.acme.json'), 'utf8')) as { order: { reference: string } };
    const state = async () => `${await snapshot(join(lab.dir, 'state'))}\n${await snapshot(join(lab.dir, 'ssl'))}`;
    const files = await state();
    const orders = lab.pebble.orderCount();

    const later = new Date(T0.getTime() + 5 * 3_600_000).toISOString();
    const human = await runCli(['status', '--config', config], { env: { CERTSMITH_FAKE_NOW: later } });
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`\nhostname (${HOST}, ${WWW}, ${NOPE}): last run: pending (`);
    expect(human.stdout).toContain(
      `\n  pending at "acme" for 5h 0m: ${saved.order.reference} (${HOST}, ${WWW}), held by ${HOST} (pending for 5h 0m), ${WWW} (pending for 5h 0m)\n`,
    );
    expect(human.stdout).toMatch(new RegExp(`\\n  dropped: ${NOPE.replace(/\./g, '\\.')}: \\w+: .+\\n`));

    const json = JSON.parse((await runCli(['status', '--json', '--config', config], { env: { CERTSMITH_FAKE_NOW: later } })).stdout) as StatusJson;
    const [target] = json.targets;
    expect(target!.pending).toEqual([
      {
        issuer: 'acme',
        order: saved.order.reference,
        names: [HOST, WWW],
        createdAt: T0.toISOString(),
        waitedSeconds: 5 * 3600,
        heldBy: `${HOST} (pending for 5h 0m), ${WWW} (pending for 5h 0m)`,
      },
    ]);
    expect(target!.lastRun!.dropped.map((d) => d.name)).toEqual([NOPE]);
    expect(target!.lastRun!.result).toBe('pending');
    // The self-signed certificate stays until the CA finishes; with a CA configured it is due.
    expect(target!.services[0]!.renewal).toMatchObject({ due: true });
    // Status asked the CA nothing and wrote nothing.
    expect(lab.pebble.orderCount()).toBe(orders);
    expect(await state()).toBe(files);
  });
});
