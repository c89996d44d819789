// One issuer plugin listed twice: two issuer-acme entries with their own ids (two CAs: two Pebbles of the lab) both
// load, both are in the chain with their own account, and a run falls back from the first to the second.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startAcmeLab, type AcmeLab, type Pebble } from '@certsmith/testlab';

const HOST = `acct-${randomBytes(3).toString('hex')}.example.test`;

let lab: AcmeLab;
let other: Pebble;
let otherRunning = true;

beforeAll(async () => {
  lab = await startAcmeLab({ name: 'accounts-e2e', webNames: [HOST] });
  other = await lab.startPebble();
}, 120_000);

afterAll(async () => {
  if (otherRunning) await other?.stop();
  await lab?.stop();
});

/** A config whose chain is ca-one (the other Pebble), ca-two (the lab's), selfsigned; `ids` may repeat one. */
async function config(name: string, ids: [string, string] = ['ca-one', 'ca-two']): Promise<string> {
  const acme = async (id: string, ca: Pebble | undefined) => ({
    module: '@certsmith/issuer-acme',
    options: { id, issuerPatterns: ['Pebble'], ...(await lab.acmeIssuerOptions(`${name}-${id}`, { ca })) },
  });
  return lab.writeConfig(name, {
    profile: 'full',
    hostname: HOST,
    plugins: [lab.httpDcvPlugin, await acme(ids[0], other), await acme(ids[1], undefined)],
    issuers: [...new Set(ids), 'selfsigned'],
  });
}

describe('two entries of one issuer plugin', { timeout: 120_000 }, () => {
  it('both load and are listed, each with its own issuer id', async () => {
    const listed = await runCli(['plugins', '--json', '--config', await config('listed')]);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as { name: string; contributes: string[] }[];
    expect(rows.filter((r) => r.name === '@certsmith/issuer-acme').map((r) => r.contributes)).toEqual([['issuer:ca-one'], ['issuer:ca-two']]);
  });

  it('two entries with one id are refused, naming both places (exit 2)', async () => {
    const file = await config('twice', ['ca-one', 'ca-one']);
    const result = await runCli(['plugins', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `certsmith: PLUGIN_DUPLICATE_ID: ${file}: $.plugins[2]: issuer id "ca-one" is already given by $.plugins[1]; give this entry another "id" option\n`,
    );
  });

  it('the first CA issues; when it is down the run falls back to the second, each with its own account', async () => {
    const [up, down] = [await config('up'), await config('down')]; // while the other CA's files are there
    const ordersOne = other.orderCount();
    const first = await runCli(['check', '--config', up]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/installed a certificate from "ca-one" for cpanel, dovecot, exim, ftp/);
    expect(first.code).toBe(0);
    expect(other.orderCount() - ordersOne).toBe(1);

    await other.stop();
    otherRunning = false;
    const ordersTwo = lab.pebble.orderCount();
    const fallback = await runCli(['check', '--config', down]);
    expect(fallback.stderr).toBe('');
    expect(fallback.stdout).toMatch(/issuer ca-one/);
    expect(fallback.stdout).toMatch(/installed a certificate from "ca-two" for cpanel, dovecot, exim, ftp/);
    expect(fallback.code).toBe(0);
    expect(lab.pebble.orderCount() - ordersTwo).toBe(1);
    for (const [state, id] of [
      ['state-up', 'ca-one'],
      ['state-down', 'ca-two'],
    ])
      expect((await stat(join(lab.dir, state!, 'issuers', id!, 'account.json'))).mode & 0o777).toBe(0o600);
  });
});
