import { describe, expect, it } from 'vitest';
import { parseBindKey } from './tsig.js';

describe('parseBindKey', () => {
  it("keeps a secret that holds '//' and still drops comments", () => {
    const key = parseBindKey('# lab key\nkey "k" { // the key\n  algorithm hmac-sha256;\n  secret "ab//cd+/EFGHijklmnopqrstuvwxyz0123456789AB=";\n};\n');
    // Before the fix the secret was cut at '//' and parsing threw TSIG_KEY_INVALID.
    expect(key.toJSON()).toEqual({ name: 'k', algorithm: 'hmac-sha256' });
  });
});
