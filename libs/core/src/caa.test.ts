// RFC 8659's decision, pure, and the pre-order step that uses it (the resolver faked: the lookup has its lab test).
import { describe, expect, it } from 'vitest';
import { caaPrecheck, caaRecordProblem, decideCaa, formatCaaRecord, parseIssueValue, type CaaLookup, type CaaRecord } from './caa.js';
import type { Issuer, Resolver } from './contracts.js';
import { createBus, type LifecycleEventName } from './events.js';
import type { Target } from './model.js';

const rec = (flags: number, tag: string, value: string): CaaRecord => {
  const problem = caaRecordProblem({ tag, value });
  return problem ? { flags, tag, value, malformed: problem } : { flags, tag, value };
};
const found = (records: CaaRecord[], extra: Partial<CaaLookup> = {}): CaaLookup => ({
  name: 'www.example.test',
  outcome: 'found',
  records,
  level: 'example.test',
  owner: 'example.test',
  cnames: [],
  path: [],
  ...extra,
});
const LE = ['letsencrypt.org'];

describe('parseIssueValue (RFC 8659 section 4.2)', () => {
  it('reads the issuer domain name, ignoring parameters and the white space around them', () => {
    expect(parseIssueValue('letsencrypt.org')).toEqual({ issuer: 'letsencrypt.org', parameters: {} });
    expect(parseIssueValue('  LetsEncrypt.ORG  ')).toEqual({ issuer: 'letsencrypt.org', parameters: {} });
    expect(parseIssueValue('letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1; validationmethods=http-01')).toEqual({
      issuer: 'letsencrypt.org',
      parameters: { accounturi: 'https://acme-v02.api.letsencrypt.org/acme/acct/1', validationmethods: 'http-01' },
    });
    expect(parseIssueValue('ca.example;')).toEqual({ issuer: 'ca.example', parameters: {} });
    expect(parseIssueValue('ca.example ;  Key = value ')).toEqual({ issuer: 'ca.example', parameters: { key: 'value' } });
    expect(parseIssueValue('x-1.ca--2.example')).toEqual({ issuer: 'x-1.ca--2.example', parameters: {} });
  });

  it('an empty value or a lone ";" names no issuer', () => {
    expect(parseIssueValue(';')).toEqual({ issuer: null, parameters: {} });
    expect(parseIssueValue('')).toEqual({ issuer: null, parameters: {} });
    expect(parseIssueValue('  ;  ')).toEqual({ issuer: null, parameters: {} });
  });

  it('anything outside the grammar is malformed', () => {
    for (const value of [
      '%%%%%',
      'ca..example',
      '-ca.example',
      'ca-.example',
      'ca.example.',
      'ca example',
      'ca.example; a=b;',
      'ca.example; a b',
      'ca.example; =b',
      'ca.example;; a=b',
      'ca.example; a=b c',
      'ça.example',
      'ca.example\u0000',
    ]) {
      expect(parseIssueValue(value), value).toHaveProperty('malformed');
    }
  });

  it('stays linear on long hostile values (no catastrophic backtracking)', () => {
    // Exponential backtracking would not finish within the test's timeout on these.
    expect(parseIssueValue(`${'a-'.repeat(20_000)}!`)).toHaveProperty('malformed');
    expect(parseIssueValue(`${'a.'.repeat(20_000)}`)).toHaveProperty('malformed');
    expect(parseIssueValue(`ca.example; ${'a=b; '.repeat(5_000)}x y`)).toHaveProperty('malformed');
  });

  it('marks tags that are not 1 to 15 letters and digits, and malformed issue values, but not iodef URLs', () => {
    expect(caaRecordProblem({ tag: 'issue', value: 'ca.example' })).toBeNull();
    expect(caaRecordProblem({ tag: 'ISSUEWILD', value: '%%' })).toMatch(/RFC 8659 section 4.2/);
    expect(caaRecordProblem({ tag: '', value: 'x' })).toMatch(/tag/);
    expect(caaRecordProblem({ tag: 'tag-with-dash', value: 'x' })).toMatch(/tag/);
    expect(caaRecordProblem({ tag: 'sixteencharacter', value: 'x' })).toMatch(/tag/);
    expect(caaRecordProblem({ tag: 'iodef', value: 'mailto:security@example.test' })).toBeNull();
  });
});

describe('decideCaa (RFC 8659 section 4)', () => {
  it('no relevant RRset: anyone may issue', () => {
    const none: CaaLookup = { name: 'www.example.test', outcome: 'none', records: [], level: null, owner: null, cnames: [], path: [] };
    expect(decideCaa('www.example.test', none, LE)).toEqual({ allowed: true, reason: 'no CAA record from www.example.test up to its TLD' });
  });

  it('an issue property naming the CA allows, case-insensitively and whatever the parameters', () => {
    const verdict = decideCaa('www.example.test', found([rec(0, 'issue', 'other.example'), rec(0, 'ISSUE', 'LetsEncrypt.org; accounturi=x')]), LE);
    expect(verdict).toEqual({ allowed: true, record: '0 ISSUE "LetsEncrypt.org; accounturi=x"', where: 'example.test', reason: 'issue names this CA' });
    expect(decideCaa('www.example.test', found([rec(0, 'issue', 'letsencrypt.org')]), ['LETSENCRYPT.ORG.']).allowed).toBe(true);
  });

  it('issue properties that name other CAs forbid, and say which record and where', () => {
    const verdict = decideCaa('www.example.test', found([rec(0, 'issue', 'other.example'), rec(0, 'issue', 'third.example')]), LE);
    expect(verdict).toEqual({
      allowed: false,
      record: '0 issue "other.example" and 1 more',
      where: 'example.test',
      reason: 'no issue property names letsencrypt.org',
    });
  });

  it('RFC 8657: a record naming the CA but bound to another account or to other methods forbids, quoted with the reason', () => {
    const account = 'https://ca.test/acct/7';
    const binding = { accountUri: account, methods: ['http-01'] };
    const bound = (value: string) => decideCaa('www.example.test', found([rec(0, 'issue', value)]), LE, binding);
    expect(bound(`letsencrypt.org; accounturi=${account}`)).toMatchObject({ allowed: true });
    expect(bound('letsencrypt.org; validationmethods=dns-01,HTTP-01')).toMatchObject({ allowed: true });
    expect(bound('letsencrypt.org; accounturi=https://ca.test/acct/8')).toEqual({
      allowed: false,
      record: '0 issue "letsencrypt.org; accounturi=https://ca.test/acct/8"',
      where: 'example.test',
      reason: `issue names this CA, but accounturi binds it to the account https://ca.test/acct/8; this issuer's account is ${account}`,
    });
    expect(bound('letsencrypt.org; validationmethods=dns-01')).toMatchObject({
      allowed: false,
      reason: 'issue names this CA, but validationmethods allows dns-01 only; this issuer validates with http-01',
    });
    // The family the name was proved over picks the method; unproved, any method the issuer may answer with lets it.
    const both = { accountUri: account, methods: ['http-01', 'dns-01'], methodOver: { http: 'http-01', dns: 'dns-01' } };
    const dnsOnly = found([rec(0, 'issue', 'letsencrypt.org; validationmethods=dns-01')]);
    expect(decideCaa('www.example.test', dnsOnly, LE, both, 'dns').allowed).toBe(true);
    expect(decideCaa('www.example.test', dnsOnly, LE, both).allowed).toBe(true);
    expect(decideCaa('www.example.test', dnsOnly, LE, both, 'http')).toMatchObject({
      allowed: false,
      reason: 'issue names this CA, but validationmethods allows dns-01 only; this issuer validates with http-01 (the name is proved over HTTP)',
    });
    // One record that lets it is enough.
    const two = found([rec(0, 'issue', 'letsencrypt.org; validationmethods=dns-01'), rec(0, 'issue', 'letsencrypt.org; validationmethods=http-01')]);
    expect(decideCaa('www.example.test', two, LE, binding).allowed).toBe(true);
    // No account yet: a record bound to an account forbids; an issuer that cannot say its binding is not held to it.
    expect(
      decideCaa('www.example.test', found([rec(0, 'issue', `letsencrypt.org; accounturi=${account}`)]), LE, { accountUri: null, methods: ['http-01'] }),
    ).toMatchObject({
      allowed: false,
      reason: `issue names this CA, but accounturi binds it to the account ${account}; this issuer has no account at the CA yet`,
    });
    expect(decideCaa('www.example.test', found([rec(0, 'issue', `letsencrypt.org; accounturi=${account}`)]), LE).allowed).toBe(true);
  });

  it('issue ";" forbids every CA', () => {
    expect(decideCaa('example.test', found([rec(0, 'issue', ';')]), LE)).toMatchObject({ allowed: false, record: '0 issue ";"' });
  });

  it('a malformed issue value names no CA (forbids unless another record allows)', () => {
    expect(decideCaa('example.test', found([rec(0, 'issue', '%%%%%')]), LE)).toMatchObject({ allowed: false, record: '0 issue "%%%%%"' });
    expect(decideCaa('example.test', found([rec(0, 'issue', 'letsencrypt.org;;'), rec(0, 'issue', 'letsencrypt.org')]), LE)).toMatchObject({
      allowed: true,
      record: '0 issue "letsencrypt.org"',
    });
    // A value that only looks like ours once trimmed of junk is still not ours.
    expect(decideCaa('example.test', found([rec(0, 'issue', 'letsencrypt.org!')]), LE).allowed).toBe(false);
  });

  it('issuewild wins for a wildcard when present, and is ignored for other names', () => {
    const onlyWild = found([rec(0, 'issuewild', 'letsencrypt.org')]);
    expect(decideCaa('*.example.test', onlyWild, LE)).toMatchObject({ allowed: true, reason: 'issuewild names this CA' });
    // A non-wildcard name has no issue property here: unrestricted.
    expect(decideCaa('www.example.test', onlyWild, LE)).toMatchObject({ allowed: true, reason: 'the CAA RRset at example.test has no issue property' });
    const issueYesWildNo = found([rec(0, 'issue', 'letsencrypt.org'), rec(0, 'issuewild', ';')]);
    expect(decideCaa('www.example.test', issueYesWildNo, LE).allowed).toBe(true);
    expect(decideCaa('*.example.test', issueYesWildNo, LE)).toMatchObject({
      allowed: false,
      record: '0 issuewild ";"',
      reason: 'no issuewild property names letsencrypt.org',
    });
    const issueNoWildYes = found([rec(0, 'issue', 'other.example'), rec(0, 'issuewild', 'letsencrypt.org')]);
    expect(decideCaa('*.example.test', issueNoWildYes, LE).allowed).toBe(true);
    expect(decideCaa('www.example.test', issueNoWildYes, LE).allowed).toBe(false);
    // Without issuewild, a wildcard follows issue.
    expect(decideCaa('*.example.test', found([rec(0, 'issue', 'other.example')]), LE)).toMatchObject({
      allowed: false,
      reason: 'no issue property names letsencrypt.org',
    });
  });

  it('a critical flag on an unknown tag forbids even an allowed CA; on a known tag, or without the flag, it does not', () => {
    const critical = found([rec(0, 'issue', 'letsencrypt.org'), rec(128, 'future', 'x')]);
    expect(decideCaa('www.example.test', critical, LE)).toEqual({
      allowed: false,
      record: '128 future "x"',
      where: 'example.test',
      reason: 'a critical property that no CA understands forbids issuance',
    });
    expect(decideCaa('www.example.test', found([rec(128, 'issue', 'letsencrypt.org')]), LE).allowed).toBe(true);
    expect(decideCaa('www.example.test', found([rec(0, 'future', 'x'), rec(0, 'issue', 'letsencrypt.org')]), LE).allowed).toBe(true);
    // Only bit 128 is the critical flag; the reserved bits mean nothing.
    expect(decideCaa('www.example.test', found([rec(1, 'future', 'x'), rec(0, 'issue', 'letsencrypt.org')]), LE).allowed).toBe(true);
    // A critical record whose tag is malformed is a tag no CA knows.
    expect(decideCaa('www.example.test', found([rec(128, 'bad tag', 'x'), rec(0, 'issue', 'letsencrypt.org')]), LE)).toMatchObject({
      allowed: false,
      record: '128 "bad tag" "x"',
    });
  });

  it('iodef alone restricts nothing', () => {
    expect(decideCaa('www.example.test', found([rec(0, 'iodef', 'mailto:sec@example.test')]), LE).allowed).toBe(true);
  });

  it('names the CNAME that led to the records', () => {
    const viaCname = found([rec(0, 'issue', 'other.example')], { level: 'www.example.test', owner: 'cdn.provider.test', cnames: ['cdn.provider.test'] });
    expect(decideCaa('www.example.test', viaCname, LE).where).toBe('cdn.provider.test (CNAME from www.example.test)');
  });

  it('cannot decide over an RRset that was cut, unless a critical unknown tag already forbids', () => {
    const cut = found([rec(0, 'issue', 'other.example')], { total: 5000 });
    expect(decideCaa('www.example.test', cut, LE)).toMatchObject({
      allowed: null,
      reason: expect.stringContaining('has 5000 records; only the first 1 were read'),
    });
    expect(decideCaa('www.example.test', { ...cut, records: [rec(128, 'future', '')] }, LE).allowed).toBe(false);
  });

  it('prints records safely: quotes and backslashes escaped, control bytes as \\ddd, long values cut', () => {
    expect(formatCaaRecord({ flags: 0, tag: 'issue', value: 'a"b\\c\u0001' })).toBe('0 issue "a\\"b\\\\c\\001"');
    expect(formatCaaRecord({ flags: 0, tag: 'issue', value: 'x'.repeat(500) })).toBe(`0 issue "${'x'.repeat(120)}…"`);
    expect(formatCaaRecord({ flags: 0, tag: '', value: '' })).toBe('0 "" ""');
  });
});

describe('caaPrecheck', () => {
  const target: Target = { id: 'hostname', names: ['host.example.test', 'www.example.test', 'shop.example.test'], services: ['dovecot'], kind: 'hostname' };
  const issuer = (extra: Partial<Issuer> = {}): Issuer => ({
    id: 'acme',
    trusted: true,
    precheck: 'http',
    issuerPatterns: [],
    caaIdentities: LE,
    issue: async () => {
      throw new Error('not used');
    },
    ...extra,
  });
  const resolverOf = (answers: Record<string, CaaLookup | Error>): Resolver & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      resolveAddresses: async () => {
        throw new Error('not used');
      },
      lookupCaa: async (name) => {
        asked.push(name);
        const answer = answers[name] ?? { name, outcome: 'none', records: [], level: null, owner: null, cnames: [], path: [] };
        if (answer instanceof Error) throw answer;
        return answer;
      },
    };
  };
  const run = async (resolver: Resolver | undefined, iss: Issuer, names = target.names, requireAllNames = false) => {
    const bus = createBus();
    const events: [LifecycleEventName, Record<string, unknown>][] = [];
    bus.on('*', (type, e) => events.push([type as LifecycleEventName, e as Record<string, unknown>]));
    const kept = await caaPrecheck({
      bus,
      resolver,
      issuer: iss,
      target,
      names,
      signal: new AbortController().signal,
      next: 'try issuer "selfsigned"',
      requireAllNames,
    });
    return { kept, events };
  };
  const forbid = (name: string): CaaLookup => ({ ...found([rec(0, 'issue', 'other.example')]), name, level: 'example.test', owner: 'example.test' });
  /** The pre-check of the target's names for an ACME issuer whose state directory holds its account. */
  const boundPrecheck = (bus: ReturnType<typeof createBus>, resolver: Resolver, iss: Issuer, extra: Partial<Parameters<typeof caaPrecheck>[0]> = {}) =>
    caaPrecheck({
      bus,
      resolver,
      issuer: iss,
      target,
      names: target.names,
      signal: new AbortController().signal,
      next: 'try issuer "selfsigned"',
      requireAllNames: false,
      issuerStateDir: '/var/lib/certsmith/issuers/acme',
      ...extra,
    });

  it('weighs validationmethods against the method of the family the local DCV proved the names over', async () => {
    const binding = { accountUri: null, methods: ['http-01', 'dns-01'], methodOver: { http: 'http-01', dns: 'dns-01' } };
    const dnsOnly = (name: string): CaaLookup => ({ ...found([rec(0, 'issue', 'letsencrypt.org; validationmethods=dns-01')]), name });
    const over = async (provedOver: 'http' | 'dns') => {
      const bus = createBus();
      const said: string[] = [];
      bus.on('validated', (e) => said.push(...(e.ok ? [] : [e.reason ?? ''])));
      const kept = await boundPrecheck(
        bus,
        resolverOf({ 'shop.example.test': dnsOnly('shop.example.test') }),
        { ...issuer(), caaBinding: async () => binding } as Issuer,
        { provedOver },
      );
      return { kept, said };
    };
    expect((await over('dns')).kept).toEqual(target.names);
    const http = await over('http');
    expect(http.kept).toEqual(['host.example.test', 'www.example.test']);
    expect(http.said).toEqual([
      'CAA_FORBIDS: shop.example.test (0 issue "letsencrypt.org; validationmethods=dns-01" at example.test): issue names this CA, but validationmethods allows dns-01 only; this issuer validates with http-01 (the name is proved over HTTP)',
    ]);
  });

  it('weighs accounturi against the account the issuer keeps in its state directory (RFC 8657)', async () => {
    const asked: string[] = [];
    const binding = { caaBinding: async (dir: string) => (asked.push(dir), { accountUri: 'https://ca.test/acct/1', methods: ['http-01'] }) };
    const bound = (name: string): CaaLookup => ({ ...found([rec(0, 'issue', 'letsencrypt.org; accounturi=https://ca.test/acct/2')]), name });
    const bus = createBus();
    const kept = await boundPrecheck(bus, resolverOf({ 'shop.example.test': bound('shop.example.test') }), { ...issuer(), ...binding } as Issuer);
    expect(asked).toEqual(['/var/lib/certsmith/issuers/acme']);
    expect(kept).toEqual(['host.example.test', 'www.example.test']);
  });

  it('drops a forbidden name with a validated (not ok) and a CAA_FORBIDS warning; the others are ordered', async () => {
    const { kept, events } = await run(resolverOf({ 'shop.example.test': forbid('shop.example.test') }), issuer());
    expect(kept).toEqual(['host.example.test', 'www.example.test']);
    expect(events).toContainEqual([
      'validated',
      {
        target: 'hostname',
        name: 'shop.example.test',
        ok: false,
        method: 'caa',
        reason: 'CAA_FORBIDS: shop.example.test (0 issue "other.example" at example.test): no issue property names letsencrypt.org',
      },
    ]);
    expect(events).toContainEqual([
      'failed',
      {
        stage: 'validate',
        target: 'hostname',
        issuer: 'acme',
        name: 'shop.example.test',
        code: 'CAA_FORBIDS',
        severity: 'warning',
        message: 'shop.example.test (0 issue "other.example" at example.test)',
        next: 'drop this name from the order',
      },
    ]);
    expect(events).toContainEqual([
      'validated',
      { target: 'hostname', name: 'www.example.test', ok: true, method: 'caa', reason: '"acme" may issue: no CAA record from www.example.test up to its TLD' },
    ]);
  });

  it('skips the issuer when the primary name is forbidden, or any name with dcv.requireAllNames', async () => {
    const primary = await run(resolverOf({ 'host.example.test': forbid('host.example.test') }), issuer());
    expect(primary.kept).toBeNull();
    expect(primary.events.at(-1)).toEqual([
      'failed',
      expect.objectContaining({
        code: 'CAA_PRIMARY_FORBIDDEN',
        next: 'try issuer "selfsigned"',
        message: 'CAA forbids "acme" to issue for the primary name host.example.test',
      }),
    ]);
    const strict = await run(resolverOf({ 'www.example.test': forbid('www.example.test') }), issuer(), target.names, true);
    expect(strict.kept).toBeNull();
    expect(strict.events.at(-1)).toEqual(['failed', expect.objectContaining({ code: 'CAA_NAMES_FORBIDDEN' })]);
  });

  it('keeps a name whose lookup failed, with a CAA_LOOKUP_FAILED warning: the CA decides', async () => {
    const failed: CaaLookup = {
      name: 'www.example.test',
      outcome: 'loop',
      records: [],
      level: 'www.example.test',
      owner: null,
      cnames: [],
      path: [],
      detail: 'CAA at www.example.test.: CNAME loop at a.test.',
    };
    const { kept, events } = await run(resolverOf({ 'www.example.test': failed, 'shop.example.test': new Error('socket exploded') }), issuer());
    expect(kept).toEqual(target.names);
    const warnings = events.filter(([t]) => t === 'failed').map(([, e]) => e);
    expect(warnings).toEqual([
      expect.objectContaining({
        name: 'www.example.test',
        code: 'CAA_LOOKUP_FAILED',
        severity: 'warning',
        message: 'the CAA check of www.example.test for "acme" could not be made (loop: CAA at www.example.test.: CNAME loop at a.test.)',
        next: 'keep this name in the order; the CA checks CAA itself and decides',
      }),
      expect.objectContaining({ name: 'shop.example.test', code: 'CAA_LOOKUP_FAILED' }),
    ]);
  });

  it('says CAA is not checked for an issuer without identities; checks nothing for a self-signed issuer or without a resolver', async () => {
    const resolver = resolverOf({});
    const { kept, events } = await run(resolver, issuer({ caaIdentities: [] }), ['host.example.test']);
    expect(kept).toEqual(['host.example.test']);
    expect(events).toEqual([
      [
        'validated',
        {
          target: 'hostname',
          name: 'host.example.test',
          ok: true,
          method: 'caa',
          reason: 'not checked: issuer "acme" names no CAA identity (its caaIdentities option)',
        },
      ],
    ]);
    expect((await run(resolver, issuer({ trusted: false }))).events).toEqual([]);
    expect((await run(undefined, issuer())).kept).toEqual(target.names);
    expect(resolver.asked).toEqual([]);
  });

  it('an RRset too large to decide keeps the name with a warning', async () => {
    const big = { ...found([rec(0, 'issue', 'other.example')]), name: 'www.example.test', total: 9000 };
    const { kept, events } = await run(resolverOf({ 'www.example.test': big }), issuer());
    expect(kept).toEqual(target.names);
    expect(events.find(([t]) => t === 'failed')?.[1]).toMatchObject({ code: 'CAA_LOOKUP_FAILED', message: expect.stringContaining('has 9000 records') });
  });
});
