import { describe, expect, it } from 'vitest';
import { isPrivateAddress, sameAddress, urlHost } from './addresses.js';

describe('addresses', () => {
  it('knows what a public CA cannot reach', () => {
    for (const a of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '127.200.3.4',
      '169.254.1.1',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['192.0.2.10', '203.0.113.7', '172.32.0.1', '8.8.8.8', '2001:db8::10', '::ffff:203.0.113.7']) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });

  it('writes IPv6 hosts in brackets and compares addresses canonically', () => {
    expect(urlHost('2001:db8::10')).toBe('[2001:db8::10]');
    expect(urlHost('192.0.2.1')).toBe('192.0.2.1');
    expect(sameAddress('2001:db8::10', '2001:0db8:0:0::10')).toBe(true);
    expect(sameAddress('192.0.2.1', '192.0.2.2')).toBe(false);
    expect(sameAddress('192.0.2.1', '::ffff:192.0.2.1')).toBe(false);
  });
});
