// The rate-limit ledger on a real temp directory: what it records, what it holds back, how it bounds Retry-After,
// and how it survives a file edited by hand into nonsense.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RATE_LIMIT_CAP_MS,
  RATE_LIMIT_DEFAULT_MS,
  RATE_LIMIT_FLOOR_MS,
  RateLimitLedger,
  RateLimitedError,
  rateLimitOf,
  rateLimitUntil,
  type RateLimitNotice,
} from './rate-limits.js';

const NOW = new Date('2026-11-25T06:00:00Z');
const limit = (over: Partial<RateLimitNotice> = {}): RateLimitNotice => ({
  scope: 'names',
  names: [],
  kind: 'rateLimited',
  detail: 'too many certificates (5) already issued for this exact set of identifiers',
  ...over,
});

describe('rateLimitUntil: how far a Retry-After is believed', () => {
  it('takes a sane Retry-After as it is', () => {
    const at = new Date('2026-11-25T09:00:00Z');
    expect(rateLimitUntil(at, NOW)).toEqual({ until: at });
  });

  it('floors one in the past (or a few seconds away) at 1 minute, and says so', () => {
    const past = rateLimitUntil(new Date('2026-11-24T00:00:00Z'), NOW);
    expect(past.until.getTime() - NOW.getTime()).toBe(RATE_LIMIT_FLOOR_MS);
    expect(past.note).toBe("the CA's Retry-After (2026-11-24T00:00:00Z) is not in the future: 1 minute floor");
    expect(rateLimitUntil(new Date(NOW.getTime() + 5_000), NOW).until.getTime() - NOW.getTime()).toBe(RATE_LIMIT_FLOOR_MS);
  });

  it('caps one absurdly far at 7 days, and says so', () => {
    const far = rateLimitUntil(new Date('2099-01-01T00:00:00Z'), NOW);
    expect(far.until.toISOString()).toBe('2026-12-02T06:00:00.000Z');
    expect(RATE_LIMIT_CAP_MS).toBe(7 * 86_400_000);
    expect(far.note).toContain('beyond the 7-day cap');
  });

  it('assumes 3 hours when the CA gave none (or an unreadable one)', () => {
    expect(rateLimitUntil(undefined, NOW).until.getTime() - NOW.getTime()).toBe(RATE_LIMIT_DEFAULT_MS);
    expect(rateLimitUntil(new Date(NaN), NOW).note).toBe('the CA gave no Retry-After: 3 hours assumed');
  });
});

describe('rateLimitOf', () => {
  it('reads the notice of a RateLimitedError and of any error shaped like one; nothing from others', () => {
    const error = new RateLimitedError('ACME_RATE_LIMITED', 'slow down', limit({ names: ['a.test'] }));
    expect(rateLimitOf(error)).toMatchObject({ scope: 'names', names: ['a.test'], kind: 'rateLimited' });
    expect(rateLimitOf(Object.assign(new Error('x'), { rateLimit: { scope: 'account', retryAfter: 'soon' } }))).toEqual({
      scope: 'account',
      names: [],
      retryAfter: undefined,
      kind: 'rate limit',
      detail: '',
      account: undefined,
    });
    expect(rateLimitOf(new Error('plain'))).toBeNull();
    expect(rateLimitOf(Object.assign(new Error('x'), { rateLimit: { scope: 'galaxy' } }))).toBeNull();
    expect(rateLimitOf(null)).toBeNull();
  });
});

describe('RateLimitLedger', () => {
  let dir: string;
  let file: string;
  let now = NOW;
  const ledger = () => new RateLimitLedger(file, () => now);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-ratelimits-'));
    file = join(dir, 'state', 'rate-limits.json');
    now = NOW;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('records a per-name limit (0600, atomically), holds those names back until the time, and only at that issuer', async () => {
    const a = ledger();
    const recorded = await a.record('sectigo', 'ACME_RATE_LIMITED', limit({ retryAfter: new Date('2026-11-25T09:00:00Z') }), ['www.a.test', 'a.test']);
    expect(recorded).toMatchObject({ until: new Date('2026-11-25T09:00:00Z'), note: undefined, names: ['www.a.test', 'a.test'] });
    // What a fleet is told: the entries as written.
    expect(recorded.entries.map((e) => [e.issuer, e.scope, e.name, e.until])).toEqual([
      ['sectigo', 'name', 'www.a.test', '2026-11-25T09:00:00.000Z'],
      ['sectigo', 'name', 'a.test', '2026-11-25T09:00:00.000Z'],
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const data = JSON.parse(await readFile(file, 'utf8')) as { version: number; entries: { name: string; until: string; detail: string }[] };
    expect(data.version).toBe(1);
    expect(data.entries.map((e) => [e.name, e.until])).toEqual([
      ['www.a.test', '2026-11-25T09:00:00.000Z'],
      ['a.test', '2026-11-25T09:00:00.000Z'],
    ]);
    expect(data.entries[0]!.detail).toContain('too many certificates');

    const b = ledger(); // the next run
    const hold = await b.hold('sectigo', ['WWW.A.TEST.', 'other.test']);
    expect(hold).toMatchObject({ scope: 'names', names: ['WWW.A.TEST.'], until: new Date('2026-11-25T09:00:00Z') });
    expect(await b.hold('sectigo', ['other.test'])).toBeNull();
    expect(await b.hold('letsencrypt', ['www.a.test'])).toBeNull();
    now = new Date('2026-11-25T09:00:01Z');
    expect(await ledger().hold('sectigo', ['www.a.test'])).toBeNull();
    expect(b.takeProblems()).toEqual([]);
  });

  it("holds back for another host's limits (a fleet's) without writing them, and says a malformed one once", async () => {
    const a = ledger();
    const shared = {
      issuer: 'sectigo',
      scope: 'name',
      name: 'Shop.A.Test',
      until: '2026-11-25T08:00:00Z',
      recordedAt: '2026-11-25T05:00:00Z',
      code: 'ACME_RATE_LIMITED',
      kind: 'rateLimited',
      detail: 'host b met it',
    };
    a.addShared([shared, { issuer: 'sectigo', scope: 'galaxy', until: 'soon' }], 'fleet "nats" rate limits');
    expect(await a.hold('sectigo', ['shop.a.test'])).toMatchObject({ scope: 'names', names: ['shop.a.test'], until: new Date('2026-11-25T08:00:00Z') });
    expect(await a.hold('letsencrypt', ['shop.a.test'])).toBeNull();
    expect(a.takeProblems()).toEqual(['fleet "nats" rate limits: entry 2 has scope "galaxy" (not "name" or "account"): ignored']);
    await expect(stat(file)).rejects.toThrow('ENOENT');
    now = new Date('2026-11-25T08:00:01Z');
    expect(await a.hold('sectigo', ['shop.a.test'])).toBeNull();
  });

  it('asks the fleet for its limits once, when a first hold is looked up, and never in a run that looks up none', async () => {
    let asked = 0;
    const entry = { issuer: 'le', scope: 'account', until: '2026-11-25T07:00:00Z', code: 'ACME_RATE_LIMITED', kind: 'rateLimited', detail: '' };
    const quiet = ledger();
    quiet.shareFrom(async () => [entry, ++asked].slice(0, 1), 'fleet');
    expect(asked).toBe(0);
    const a = ledger();
    a.shareFrom(async () => [entry, ++asked].slice(0, 1), 'fleet');
    expect(await a.hold('le', ['a.test'])).toMatchObject({ scope: 'account' });
    expect(await a.hold('le', ['b.test'])).toMatchObject({ scope: 'account' });
    expect(asked).toBe(1);
  });

  it("an account-wide limit holds the issuer back for every name; the CA's own names win over the order's", async () => {
    const a = ledger();
    await a.record('sectigo', 'ACME_RATE_LIMITED', limit({ scope: 'account', detail: 'too many new orders recently', account: 'https://ca/acct/1' }), [
      'x.test',
    ]);
    const hold = await ledger().hold('sectigo', ['anything.test']);
    expect(hold).toMatchObject({
      scope: 'account',
      entry: { account: 'https://ca/acct/1', kind: 'rateLimited', until: new Date(NOW.getTime() + RATE_LIMIT_DEFAULT_MS).toISOString() },
    });
    await a.record('le', 'ACME_RATE_LIMITED', limit({ names: ['b.test'] }), ['a.test', 'b.test']);
    expect(await ledger().hold('le', ['a.test'])).toBeNull();
    expect(await ledger().hold('le', ['b.test'])).not.toBeNull();
  });

  it('merges with what is on disk, replaces an older entry for the same name and drops expired ones', async () => {
    await ledger().record('ca', 'ACME_RATE_LIMITED', limit({ retryAfter: new Date(NOW.getTime() + 60 * 60_000) }), ['a.test']);
    now = new Date(NOW.getTime() + 2 * 60 * 60_000);
    await ledger().record('ca', 'ACME_RATE_LIMITED', limit({ retryAfter: new Date(now.getTime() + 60 * 60_000) }), ['b.test']);
    await ledger().record('ca', 'ACME_RATE_LIMITED', limit({ retryAfter: new Date(now.getTime() + 2 * 60 * 60_000) }), ['b.test']);
    const entries = (JSON.parse(await readFile(file, 'utf8')) as { entries: { name: string; until: string }[] }).entries;
    expect(entries).toEqual([expect.objectContaining({ name: 'b.test', until: new Date(now.getTime() + 2 * 60 * 60_000).toISOString() })]);
  });

  it('two targets recording at once both land (one write at a time, each re-reading the file)', async () => {
    const shared = ledger();
    await Promise.all(['a.test', 'b.test', 'c.test'].map((n) => shared.record('ca', 'ACME_RATE_LIMITED', limit(), [n])));
    const entries = (JSON.parse(await readFile(file, 'utf8')) as { entries: { name: string }[] }).entries;
    expect(entries.map((e) => e.name).sort()).toEqual(['a.test', 'b.test', 'c.test']);
  });

  it.each([
    ['not JSON', '{"entries": [', /not valid JSON/],
    ['a list', '[1, 2, 3]', /not a rate-limit ledger \(an object with an "entries" list was expected\)/],
    ['entries as text', '{"version": 1, "entries": "lots"}', /not a rate-limit ledger/],
    ['binary', '\u0000\u0001\u0002', /not valid JSON/],
  ])('a file edited into nonsense (%s) is reported once, naming the file, and treated as empty', async (_what, text, pattern) => {
    await ledger().record('ca', 'X', limit(), ['seed.test']); // makes the directory
    await writeFile(file, text);
    const l = ledger();
    expect(await l.hold('ca', ['seed.test'])).toBeNull();
    const problems = l.takeProblems();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(file);
    expect(problems[0]).toMatch(pattern);
    // Reported once per run, even though every later look (and the rewrite) reads it again.
    await l.hold('ca', ['a.test']);
    await l.record('ca', 'ACME_RATE_LIMITED', limit(), ['a.test']);
    expect(l.takeProblems()).toEqual([]);
    // The next rate limit rewrites the file as a valid ledger.
    expect(await ledger().hold('ca', ['a.test'])).not.toBeNull();
  });

  it('drops entries that make no sense one by one (naming them) and caps an `until` edited absurdly far', async () => {
    await ledger().record('ca', 'X', limit(), ['seed.test']);
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        entries: [
          { issuer: 'ca', scope: 'name', name: 'good.test', until: '2026-11-25T08:00:00Z', code: 'ACME_RATE_LIMITED', kind: 'rateLimited', detail: 'd' },
          { issuer: 'ca', scope: 'name', name: 'forever.test', until: '9999-12-31T00:00:00Z' },
          { issuer: 'ca', scope: 'name', name: 'when.test', until: 'tomorrow' },
          { issuer: 'ca', scope: 'planet', until: '2026-11-25T08:00:00Z' },
          { scope: 'account', until: '2026-11-25T08:00:00Z' },
          'just text',
          { issuer: 'ca', scope: 'name', name: 'odd.test', until: '2026-11-25T08:00:00Z', detail: 42 },
        ],
      }),
    );
    const l = ledger();
    expect(await l.hold('ca', ['good.test'])).toMatchObject({ until: new Date('2026-11-25T08:00:00Z') });
    expect((await l.hold('ca', ['forever.test']))!.until.toISOString()).toBe(new Date(NOW.getTime() + RATE_LIMIT_CAP_MS).toISOString());
    expect(await l.hold('ca', ['when.test'])).toBeNull();
    const problems = l.takeProblems();
    expect(problems).toEqual([
      `${file}: entry 3 has "until" "tomorrow", not a date: ignored`,
      `${file}: entry 4 has scope "planet" (not "name" or "account"): ignored`,
      `${file}: entry 5 has no "issuer": ignored`,
      `${file}: entry 6 is not an object: ignored`,
      `${file}: entry 7 has a "detail" that is not text: ignored`,
    ]);
  });

  it('an unreadable ledger (a directory in its place) is reported and the run goes on', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(file, { recursive: true });
    const l = ledger();
    expect(await l.hold('ca', ['a.test'])).toBeNull();
    expect(l.takeProblems()).toEqual([`${file}: cannot be read (EISDIR): no rate limit is known this run`]);
    await expect(l.record('ca', 'ACME_RATE_LIMITED', limit(), ['a.test'])).rejects.toThrow();
  });
});
