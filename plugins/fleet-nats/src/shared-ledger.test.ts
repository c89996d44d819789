// The fleet's rate-limit ledger against a real nats-server: entries another version wrote survive this one's writes,
// hosts sharing at once all end in the value (compare-and-set retries), and an account-wide limit holds others back.
import { RateLimitLedger, type RateLimitEntry } from '@certsmith/core';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsWithClients } from '../testing/nats-hosts.js';
import type { Ask } from './fleet-connection.js';
import { ledgerOf, mergedLedger, withoutHost } from './ledger-value.js';
import { rateLimitKey } from './names.js';
import { SharedLedger } from './shared-ledger.js';
import { OnceWarnings } from './warnings.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const UNTIL = '2026-03-01T13:00:00Z';

const limit = (issuer: string, name: string): RateLimitEntry => ({
  issuer,
  scope: 'name',
  name,
  until: UNTIL,
  recordedAt: NOW.toISOString(),
  code: 'ACME_RATE_LIMITED',
  kind: 'rateLimited',
  detail: 'too many certificates',
});

describe('SharedLedger against a real nats-server', () => {
  const lab = natsWithClients();
  const ask: Ask = (call) => call(lab.clients);
  /** Each test its own bucket: nothing of one test's ledger is seen by another. */
  let bucket = 0;
  const ledgerOfHost = (warnings = new OnceWarnings()) => new SharedLedger(`ledger-${bucket}`, warnings, () => NOW);
  const rawValue = async (issuer: string) => (await (await lab.clients.bucket(`ledger-${bucket}`)).get(rateLimitKey(issuer)))!.string();

  it("keeps an entry it cannot use (another version's scope) and every other host's limit when it shares its own", async () => {
    bucket++;
    const known = { ...limit('acme', 'www.example.test'), host: 'a.example.test' };
    const newer = { ...limit('acme', 'mail.example.test'), scope: 'certificate-profile', profile: 'short', host: 'n.example.test' };
    const kv = await lab.clients.bucket(`ledger-${bucket}`);
    await kv.put(rateLimitKey('acme'), JSON.stringify({ version: 1, entries: [known, newer] }));

    const warnings = new OnceWarnings();
    const host = ledgerOfHost(warnings);
    await host.share(ask, 'b.example.test', [limit('acme', 'ftp.example.test')]);

    const value = JSON.parse(await rawValue('acme')) as { entries: unknown[] };
    expect(value.entries).toHaveLength(3);
    expect(value.entries).toEqual(expect.arrayContaining([known, newer, { ...limit('acme', 'ftp.example.test'), host: 'b.example.test' }]));
    // What it can use is read; the newer version's entry is not used, and not warned about at every run.
    const read = await host.read(ask);
    expect(read.map((e) => e.name).sort()).toEqual(['ftp.example.test', 'www.example.test']);
    expect(warnings.take()).toEqual([]);
  });

  it('drops at its next write an entry it cannot use once its until has passed, and one with no date in until', async () => {
    bucket++;
    const ranOut = { scope: 'other', until: '2026-03-01T09:00:00Z' };
    const live = { scope: 'other', until: UNTIL };
    const malformed = ['not an entry', {}, { scope: 'other', until: 'soon' }, [UNTIL]];
    const kv = await lab.clients.bucket(`ledger-${bucket}`);
    await kv.put(rateLimitKey('acme'), JSON.stringify({ version: 1, entries: [ranOut, live, ...malformed] }));

    const warnings = new OnceWarnings();
    await ledgerOfHost(warnings).share(ask, 'b.example.test', [limit('acme', 'ftp.example.test')]);
    expect(warnings.take()).toEqual([expect.stringMatching(/under ratelimit\.acme in bucket ledger-\d+ has malformed entries \(4\): ignored, dropped/)]);
    const value = JSON.parse(await rawValue('acme')) as { entries: unknown[] };
    expect(value.entries).toEqual([{ ...limit('acme', 'ftp.example.test'), host: 'b.example.test' }, live]);
    // Gone from the value, they are said no more: the next run of any host reads it without a warning.
    await ledgerOfHost(warnings).read(ask);
    expect(warnings.take()).toEqual([]);
    // The merge alone: a newer version's entry stays while its until is to come.
    const read = ledgerOf(JSON.stringify({ version: 1, entries: [ranOut, live, ...malformed] }))!;
    expect(mergedLedger(read, [], NOW).entries).toEqual([live]);
    expect(mergedLedger(read, [], new Date(UNTIL)).entries).toEqual([]);
    expect(ledgerOf('{"entries":3}')).toBeNull();
    expect(ledgerOf('not json')).toBeNull();
  });

  it('twenty hosts sharing at once all end in the value: a writer that lost the compare-and-set merges again', async () => {
    bucket++;
    const hosts = Array.from({ length: 20 }, (_, i) => `h${i}.example.test`);
    const warnings = new OnceWarnings();
    await Promise.all(hosts.map((host, i) => ledgerOfHost(warnings).share(ask, host, [limit('acme', `s${i}.example.test`)])));
    const value = JSON.parse(await rawValue('acme')) as { entries: { host: string; name: string }[] };
    expect(value.entries.map((e) => e.host).sort()).toEqual([...hosts].sort());
    expect(warnings.take()).toEqual([]);
  });

  it("an account-wide limit one host met holds another host back for any name of that issuer's account", async () => {
    bucket++;
    const { name: _name, ...named } = limit('acme', 'www.example.test');
    const accountLimit: RateLimitEntry = { ...named, scope: 'account', account: 'https://ca.example.test/acct/1' };
    await ledgerOfHost().share(ask, 'a.example.test', [accountLimit]);

    const other = new RateLimitLedger(join(await mkdtemp(join(tmpdir(), 'certsmith-ledger-')), 'rate-limits.json'), () => NOW);
    const shared = ledgerOfHost();
    other.shareFrom(async () => (await shared.read(ask)).map(withoutHost), 'the fleet');
    const hold = await other.hold('acme', ['unrelated.example.test']);
    expect(hold).toMatchObject({ scope: 'account', until: new Date(UNTIL), entry: { account: 'https://ca.example.test/acct/1' } });
    expect(await other.hold('other-ca', ['unrelated.example.test'])).toBeNull();
  });
});
