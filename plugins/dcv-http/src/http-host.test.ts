import { describe, expect, it } from 'vitest';
import { hostForHttpDcv } from './http-host.js';

describe('hostForHttpDcv', () => {
  it('drops a trailing dot and lowercases', () => {
    expect(hostForHttpDcv('WWW.Example.TEST.')).toBe('www.example.test');
  });

  it('converts IDNs to A-labels', () => {
    expect(hostForHttpDcv('Bücher.example.test')).toBe('xn--bcher-kva.example.test');
  });

  it('refuses wildcards with a message that points at DNS validation', () => {
    expect(() => hostForHttpDcv('*.example.test')).toThrowError(/wildcard name cannot be validated over HTTP; use DNS validation/);
    try {
      hostForHttpDcv('*.example.test');
    } catch (error) {
      expect((error as { code: string }).code).toBe('DCV_HTTP_WILDCARD');
    }
  });

  it('refuses labels over 63 characters and names over 253', () => {
    expect(() => hostForHttpDcv(`${'a'.repeat(64)}.example.test`)).toThrowError(/64 characters long; DNS allows 63/);
    expect(hostForHttpDcv(`${'a'.repeat(63)}.example.test`)).toBe(`${'a'.repeat(63)}.example.test`);
    const long = Array.from({ length: 5 }, () => 'b'.repeat(60)).join('.');
    expect(() => hostForHttpDcv(long)).toThrowError(/DNS allows 253/);
  });

  it('refuses empty labels, bad characters and single labels', () => {
    expect(() => hostForHttpDcv('a..example.test')).toThrowError(/empty label/);
    expect(() => hostForHttpDcv('a b.example.test')).toThrowError(/DCV|valid|label/);
    expect(() => hostForHttpDcv('-a.example.test')).toThrowError(/letters, digits and inner hyphens/);
    expect(() => hostForHttpDcv('_dmarc.example.test')).toThrowError(/letters, digits and inner hyphens/);
    expect(() => hostForHttpDcv('localhost')).toThrowError(/not a fully qualified name/);
    expect(() => hostForHttpDcv('.')).toThrowError(/empty name/);
  });
});
