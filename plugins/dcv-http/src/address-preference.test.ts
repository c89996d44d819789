import { describe, expect, it } from 'vitest';
import { firstOfEachFamily, judgeDualStack, verdictOf, type AddressOutcome } from './address-preference.js';

const NAME = 'WWW.Example.Test.';
const HOST = 'www.example.test';
const passV4: AddressOutcome = { ok: true, address: '127.0.4.9' };
const passV6: AddressOutcome = { ok: true, address: '::1' };
const fail = (address: string, code: string, short: string, connection = false): AddressOutcome => ({
  ok: false,
  address,
  code,
  reason: `${code} reason`,
  short,
  connection,
});
const refused = fail('::1', 'DCV_HTTP_REFUSED', 'connection refused', true);
const connectTimeout = fail('::1', 'DCV_HTTP_TIMEOUT', 'connection timed out', true);
const notFound = fail('::1', 'DCV_HTTP_NOT_FOUND', '404');
const wrong = fail('::1', 'DCV_HTTP_WRONG_CONTENT', 'wrong content');
const readTimeout = fail('::1', 'DCV_HTTP_TIMEOUT', 'timeout');

describe('firstOfEachFamily', () => {
  it('takes the first AAAA and the first A, whatever else the name has', () => {
    expect(firstOfEachFamily(['2001:db8::2', '2001:db8::1', '192.0.2.2', '192.0.2.1'])).toEqual({ v6: '2001:db8::2', v4: '192.0.2.2' });
    expect(firstOfEachFamily(['192.0.2.1'])).toEqual({ v6: undefined, v4: '192.0.2.1' });
    expect(firstOfEachFamily(['::1'])).toEqual({ v6: '::1', v4: undefined });
    expect(firstOfEachFamily([])).toEqual({ v6: undefined, v4: undefined });
  });
});

describe('judgeDualStack', () => {
  it("'ipv6': the AAAA address decides whatever failed, with both addresses and what failed", () => {
    for (const [v6, short] of [
      [refused, 'connection refused'],
      [connectTimeout, 'connection timed out'],
      [notFound, '404'],
      [wrong, 'wrong content'],
    ] as const) {
      expect(judgeDualStack(NAME, HOST, v6, passV4, 'ipv6')).toEqual({
        name: NAME,
        ok: false,
        code: 'AAAA_UNREACHABLE',
        reason: `www.example.test: the file is not served over [::1] (${short}) but is over 127.0.4.9; the CA fetches over IPv6 when the name has an AAAA record: serve the file over IPv6 too (the same docroot) or remove the AAAA record`,
      });
    }
  });

  it("as Let's Encrypt ('ipv6-then-ipv4'): an IPv6 answer that is not the file fails the name", () => {
    for (const [v6, short] of [
      [notFound, '404'],
      [wrong, 'wrong content'],
      [readTimeout, 'timeout'],
    ] as const) {
      const verdict = judgeDualStack(NAME, HOST, v6, passV4, 'ipv6-then-ipv4');
      expect(verdict).toEqual({
        name: NAME,
        ok: false,
        code: 'AAAA_UNREACHABLE',
        reason: `www.example.test: the file is not served over [::1] (${short}) but is over 127.0.4.9; the CA fetches over IPv6 first and does not retry over IPv4 after an IPv6 answer: serve the file over IPv6 too (the same docroot) or remove the AAAA record`,
      });
    }
  });

  it("as Let's Encrypt ('ipv6-then-ipv4'): a failed IPv6 connection is retried over IPv4, so the name passes with a warning", () => {
    for (const v6 of [refused, connectTimeout]) {
      const verdict = judgeDualStack(NAME, HOST, v6, passV4, 'ipv6-then-ipv4');
      expect(verdict).toMatchObject({
        name: NAME,
        ok: true,
        warnings: [
          {
            code: 'AAAA_UNREACHABLE',
            message: expect.stringMatching(
              /^www\.example\.test: the file is not served over \[::1\] \(connection (refused|timed out)\) but is over 127\.0\.4\.9; the CA retries over IPv4/,
            ),
          },
        ],
      });
      expect(verdict.code).toBeUndefined();
    }
  });

  it("by cPanel's rule ('first'): the AAAA address comes first and decides, whatever failed", () => {
    for (const v6 of [refused, connectTimeout, notFound, wrong]) {
      expect(judgeDualStack(NAME, HOST, v6, passV4, 'first')).toEqual({
        name: NAME,
        ok: false,
        code: 'AAAA_UNREACHABLE',
        reason: `www.example.test: the file is not served over [::1] (${v6.ok ? '' : v6.short}) but is over 127.0.4.9; the first address decides, and the AAAA address comes first: serve the file over IPv6 too (the same docroot) or remove the AAAA record`,
      });
    }
  });

  it('passes a name served over IPv6 either way, and keeps a followed redirect as its reason', () => {
    expect(judgeDualStack(NAME, HOST, passV6, passV4, 'ipv6')).toEqual({ name: NAME, ok: true });
    expect(judgeDualStack(NAME, HOST, { ...passV6, reason: 'followed Redirection #1' }, fail('127.0.4.9', 'DCV_HTTP_NOT_FOUND', '404'), 'first')).toEqual({
      name: NAME,
      ok: true,
      reason: 'followed Redirection #1',
    });
  });

  it('when both fail, says what the CA ends with and what the other address did', () => {
    const v4NotFound = fail('127.0.4.9', 'DCV_HTTP_NOT_FOUND', '404');
    expect(judgeDualStack(NAME, HOST, notFound, v4NotFound, 'ipv6-then-ipv4')).toEqual({
      name: NAME,
      ok: false,
      code: 'DCV_HTTP_NOT_FOUND',
      reason: 'DCV_HTTP_NOT_FOUND reason (over 127.0.4.9: 404)',
    });
    // Let's Encrypt retried over IPv4 after the refused IPv6 connection: the A address's failure is the one it reports.
    expect(judgeDualStack(NAME, HOST, refused, v4NotFound, 'ipv6-then-ipv4')).toEqual({
      name: NAME,
      ok: false,
      code: 'DCV_HTTP_NOT_FOUND',
      reason: 'DCV_HTTP_NOT_FOUND reason (over [::1]: connection refused)',
    });
    expect(judgeDualStack(NAME, HOST, refused, v4NotFound, 'ipv6')).toEqual({
      name: NAME,
      ok: false,
      code: 'DCV_HTTP_REFUSED',
      reason: 'DCV_HTTP_REFUSED reason (over 127.0.4.9: 404)',
    });
    expect(judgeDualStack(NAME, HOST, refused, v4NotFound, 'first')).toEqual({
      name: NAME,
      ok: false,
      code: 'DCV_HTTP_REFUSED',
      reason: 'DCV_HTTP_REFUSED reason (over 127.0.4.9: 404)',
    });
  });
});

describe('verdictOf', () => {
  it('is the plain verdict of one address', () => {
    expect(verdictOf(NAME, passV4)).toEqual({ name: NAME, ok: true });
    expect(verdictOf(NAME, notFound)).toEqual({ name: NAME, ok: false, code: 'DCV_HTTP_NOT_FOUND', reason: 'DCV_HTTP_NOT_FOUND reason' });
  });
});
