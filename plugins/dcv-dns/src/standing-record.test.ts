import { describe, expect, it } from 'vitest';
import { judgeStanding, parsePersistValue, persistOwner, persistValue } from './standing-record.js';

const ACCOUNT = 'https://ca.test/acct/1';
const now = new Date('2026-12-01T00:00:00Z');
const want = { issuerDomainNames: ['ca.test'], accountUri: ACCOUNT, wildcard: false };

describe('the standing validation record (dns-persist-01)', () => {
  it('lives at _validation-persist.<name>, a wildcard at its base name, and names the CA, the account and the wildcard policy', () => {
    expect(persistOwner('www.example.test')).toBe('_validation-persist.www.example.test');
    expect(persistOwner('*.example.test')).toBe('_validation-persist.example.test');
    expect(persistValue({ issuerDomainName: 'ca.test', accountUri: ACCOUNT, wildcard: false })).toBe(`ca.test; accounturi=${ACCOUNT}`);
    expect(persistValue({ issuerDomainName: 'ca.test', accountUri: ACCOUNT, wildcard: true })).toBe(`ca.test; accounturi=${ACCOUNT}; policy=wildcard`);
  });

  it('reads an issue-value with any spacing and case of keys, ignoring unknown parameters; no issuer is no record', () => {
    expect(parsePersistValue(`CA.test. ;AccountURI=${ACCOUNT} ; POLICY=Wildcard; persistUntil=1767225600; color=blue`)).toEqual({
      issuer: 'ca.test',
      accountUri: ACCOUNT,
      wildcard: true,
      persistUntil: 1767225600,
    });
    expect(parsePersistValue('; accounturi=x')).toBeNull();
    expect(parsePersistValue('v=spf1 -all')).toBeNull();
  });

  it('counts a record whose persistUntil is not a base-10 integer as none: the CA rejects it, so a valid one is still to be published', () => {
    const mine = `ca.test; accounturi=${ACCOUNT}`;
    expect(parsePersistValue(`${mine}; persistUntil=2030-01-01`)).toBeNull();
    expect(judgeStanding([`${mine}; persistUntil=soon`], want, now)).toEqual({ state: 'missing' });
    expect(judgeStanding(['ca.test; accounturi=https://ca.test/acct/2; persistUntil=-1'], want, now)).toEqual({ state: 'missing' });
  });

  it('is bound only by a live record of this CA for this account (with policy=wildcard for a wildcard)', () => {
    const mine = `ca.test; accounturi=${ACCOUNT}`;
    expect(judgeStanding([mine], want, now)).toEqual({ state: 'bound' });
    expect(judgeStanding(['other.test; accounturi=x', mine], want, now)).toEqual({ state: 'bound' });
    expect(judgeStanding([], want, now)).toEqual({ state: 'missing' });
    expect(judgeStanding(['other.test; accounturi=x'], want, now)).toEqual({ state: 'other-ca', issuers: ['other.test'] });
    expect(judgeStanding(['ca.test; accounturi=https://ca.test/acct/2', 'ca.test'], want, now)).toEqual({
      state: 'other-account',
      accounts: ['https://ca.test/acct/2'],
    });
    // Without accounturi the CA ignores the record: it holds the name for no account, and this issuer's goes beside it.
    expect(parsePersistValue('ca.test; policy=wildcard')).toBeNull();
    expect(judgeStanding(['ca.test', 'ca.test; policy=wildcard'], want, now)).toEqual({ state: 'missing' });
    // Before this issuer has an account, any record of its CA is another account's.
    expect(judgeStanding([mine], { ...want, accountUri: null }, now)).toEqual({ state: 'other-account', accounts: [ACCOUNT] });
    expect(judgeStanding([`${mine}; persistUntil=1000`], want, now)).toEqual({ state: 'expired' });
    expect(judgeStanding([`${mine}; persistUntil=1893456000`], want, now)).toEqual({ state: 'bound' });
    expect(judgeStanding([mine], { ...want, wildcard: true }, now)).toEqual({ state: 'not-wildcard' });
    expect(judgeStanding([`${mine}; policy=wildcard`], { ...want, wildcard: true }, now)).toEqual({ state: 'bound' });
  });
});
