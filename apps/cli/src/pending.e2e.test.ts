// "Why is it still pending", end to end: the built CLI orders from Debian's Pebble whose VA sleeps far beyond the
// test (PEBBLE_VA_NOSLEEP=0, PEBBLE_VA_SLEEPTIME=1000000: every answered challenge waits at the CA, as Sectigo can
// leave one for days), with a zero wait bound so that each run leaves the order pending. CERTSMITH_FAKE_NOW moves
// the runs days apart: the per-name lines and the "order held by" summary carry their age from run to run (human
// output and --json), and past retry.abandonPendingAfterHours the order is abandoned and ordered again without the
// names that held it. Names resolve through the lab's BIND; local DCV fetches from Debian's nginx.
// Pebble keeps an answered challenge 'pending' while its VA sleeps, so every resume answers it again and queues one
// more validation; Pebble's VA runs a few validations at once and blocks new ones once its small queue is full. Keep
// the runs and names of this file few (two names, five runs) or a later run hangs on a challenge POST.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startAcmeLab, type AcmeLab } from '@certsmith/testlab';

const HOST = `pend-${randomBytes(3).toString('hex')}.example.test`;
const WWW = `www.${HOST}`;
// Whole minutes, so that the ages printed are exact.
const T0 = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000).toISOString();

let lab: AcmeLab;
let file: string;
let pendingFile: string;

beforeAll(async () => {
  lab = await startAcmeLab({ name: 'pending-e2e', webNames: [HOST, WWW], pebble: { env: { PEBBLE_VA_NOSLEEP: '0', PEBBLE_VA_SLEEPTIME: '1000000' } } });
  if (!/Setting maximum random VA sleep time to 1000000 seconds/.test(lab.pebble.log()))
    throw new Error(`Pebble's VA does not sleep as this test needs:\n${lab.pebble.log()}`);
  file = await lab.writeConfig('config', {
    profile: 'full',
    hostname: HOST,
    names: [WWW],
    paths: { stateDir: './state', sslDir: './ssl' },
    retry: { abandonPendingAfterHours: 72 },
    plugins: [
      lab.httpDcvPlugin,
      {
        module: '@certsmith/issuer-acme',
        options: { ...(await lab.acmeIssuerOptions('config')), issuerPatterns: ['Pebble'], maxWaitSeconds: 0 },
      },
    ],
    issuers: ['acme', 'selfsigned'],
  });
  pendingFile = join(lab.dir, 'state', 'pending', 'hostname.acme.json');
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

const check = (now: string, ...extra: string[]) => runCli(['check', '--config', file, '--no-retry', ...extra], { env: { CERTSMITH_FAKE_NOW: now } });
const savedOrder = async () =>
  (
    JSON.parse(await readFile(pendingFile, 'utf8')) as {
      order: { reference: string; names: string[]; createdAt: string; authorizations: { name: string; since: string }[] };
    }
  ).order;

interface JsonReport {
  targets: {
    result: string;
    actions: string[];
    issued?: {
      status: string;
      order: string;
      heldBy?: string;
      authorizations?: { name: string; status: string; challenge?: { type: string; status: string }; since: string; forSeconds: number }[];
    };
    failures: { code: string; message: string; severity: string; next: string }[];
  }[];
}

describe('certsmith check: why an order is still pending, per name, and the deadline', { timeout: 120_000 }, () => {
  let first = '';

  it("prints each name's authorization and which names hold the order", async () => {
    const orders = lab.pebble.orderCount();
    const run = await check(T0.toISOString());
    expect(run.stderr).toBe('');
    expect(lab.pebble.orderCount() - orders).toBe(1);
    const order = await savedOrder();
    first = order.reference;
    expect(run.stdout).toContain(`  Order pending at "acme": ${first}`);
    expect(run.stdout).toContain(
      `    ${HOST}: authorization pending, http-01 challenge pending for 0s\n    ${WWW}: authorization pending, http-01 challenge pending for 0s\n`,
    );
    expect(run.stdout).toContain(`    order held by: ${HOST} (pending for 0s), ${WWW} (pending for 0s)\n`);
    expect(order.authorizations.map((a) => [a.name, a.since])).toEqual([
      [HOST, T0.toISOString()],
      [WWW, T0.toISOString()],
    ]);
    expect(run.code).toBe(0);
  });

  it('two days later the same order is resumed and its names have been pending for 2d 3h (human and --json)', async () => {
    const orders = lab.pebble.orderCount();
    const human = await check(at(51));
    expect(human.stdout).toContain(
      `    ${HOST}: authorization pending, http-01 challenge pending for 2d 3h\n    ${WWW}: authorization pending, http-01 challenge pending for 2d 3h\n`,
    );
    expect(human.stdout).toContain(`    order held by: ${HOST} (pending for 2d 3h), ${WWW} (pending for 2d 3h)\n`);
    // The summary at the end repeats it among the target's actions.
    expect(human.stdout).toMatch(new RegExp(`Summary:[\\s\\S]*order held by: ${HOST.replace(/\./g, '\\.')} \\(pending for 2d 3h\\)`));

    const json = await check(at(52), '--json');
    expect(json.stderr).toBe('');
    const report = JSON.parse(json.stdout) as JsonReport;
    const issued = report.targets[0]!.issued!;
    expect(issued).toMatchObject({ status: 'pending', order: first, heldBy: `${HOST} (pending for 2d 4h), ${WWW} (pending for 2d 4h)` });
    expect(issued.authorizations).toEqual(
      [HOST, WWW].map((name) => ({
        name,
        status: 'pending',
        challenge: { type: 'http-01', status: 'pending' },
        since: T0.toISOString(),
        forSeconds: 52 * 3600,
      })),
    );
    expect(report.targets[0]!.result).toBe('pending');
    expect(lab.pebble.orderCount() - orders).toBe(0);
    expect((await savedOrder()).reference).toBe(first);
  });

  it('past the deadline the order is abandoned: its authorizations deactivated, a new order without the names that held it', async () => {
    const orders = lab.pebble.orderCount();
    const run = await check(at(73));
    expect(run.stderr).toBe('');
    // The primary name held it too: it cannot be dropped, so the new order tries it again.
    expect(run.stdout).toContain(
      `  Warning (issue, issuer acme): ORDER_ABANDONED: the order ${first} is 3d 1h old (more than retry.abandonPendingAfterHours = 72h), held by ${HOST} (pending for 3d 1h), ${WWW} (pending for 3d 1h): abandoned (deactivated the authorizations of ${HOST}, ${WWW} at the CA); dropped from the new order: ${WWW}; the primary name ${HOST} cannot be dropped, so the new order tries it again from scratch → place a new order\n`,
    );
    expect(lab.pebble.orderCount() - orders).toBe(1);
    const order = await savedOrder();
    expect(order.reference).not.toBe(first);
    expect(order.names).toEqual([HOST]);
    expect(order.createdAt).toBe(at(73));
    expect(run.stdout).toContain(`  Order pending at "acme": ${order.reference}`);
    expect(run.stdout).toContain(`    ${HOST}: authorization pending, http-01 challenge pending for 0s\n    order held by: ${HOST} (pending for 0s)\n`);
    expect(run.stdout).not.toContain(`${WWW}: authorization`);
    expect(run.code).toBe(0);
  });

  it('a pending-order file edited into nonsense: a warning naming the file, no stack trace, a fresh order (--json)', async () => {
    const saved = JSON.parse(await readFile(pendingFile, 'utf8')) as { order: { names: unknown } };
    saved.order.names = 42;
    await writeFile(pendingFile, JSON.stringify(saved));
    const orders = lab.pebble.orderCount();
    const run = await check(at(74), '--json');
    expect(run.stderr).toBe('');
    const target = (JSON.parse(run.stdout) as JsonReport).targets[0]!;
    expect(target.failures).toEqual([
      {
        stage: 'issue',
        target: 'hostname',
        issuer: 'acme',
        code: 'PENDING_STATE_INVALID',
        severity: 'warning',
        message: `the pending-order file ${pendingFile} is not usable: "order.names" is not a list of names`,
        next: `moved aside to ${pendingFile}.invalid; go on as if no order were pending`,
      },
    ]);
    expect(lab.pebble.orderCount() - orders).toBe(1);
    expect(target.issued?.heldBy).toBe(`${HOST} (pending for 0s), ${WWW} (pending for 0s)`);
    expect((await readdir(join(lab.dir, 'state', 'pending'))).sort()).toEqual(['hostname.acme.json', 'hostname.acme.json.invalid']);
    expect((await savedOrder()).names).toEqual([HOST, WWW]);
    expect(run.code).toBe(0);
  });
});
