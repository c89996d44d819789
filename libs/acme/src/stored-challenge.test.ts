import { describe, expect, it } from 'vitest';
import { storedChallenge } from './stored-challenge.js';

describe('storedChallenge', () => {
  it('maps the http-01 and dns-01 challenges older runs left in challenges.json to the kinds DCV methods answer', () => {
    expect(storedChallenge({ kind: 'http-01', name: 'a.test', token: 'tok-1', keyAuthorization: 'tok-1.thumb' })).toEqual({
      kind: 'http-file',
      name: 'a.test',
      path: '/.well-known/acme-challenge/tok-1',
      body: 'tok-1.thumb',
      redirects: 'acme',
    });
    expect(storedChallenge({ kind: 'dns-01', name: '*.b.test', value: 'digest' })).toEqual({
      kind: 'dns-txt',
      name: '*.b.test',
      owner: '_acme-challenge.b.test',
      value: 'digest',
    });
  });

  it('keeps current kinds and skips what no method answers or what is malformed', () => {
    const current = { kind: 'dns-txt', name: 'c.test', owner: '_acme-challenge.c.test', value: 'v' };
    expect(storedChallenge(current)).toEqual(current);
    expect(storedChallenge({ kind: 'sectigo-cname', name: 'c.test', md5: 'x', sha256: 'y' })).toBeNull();
    expect(storedChallenge({ kind: 'http-01', name: 'c.test' })).toBeNull();
    expect(storedChallenge('http-01')).toBeNull();
  });
});
