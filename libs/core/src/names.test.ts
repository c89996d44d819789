import { describe, expect, it } from 'vitest';
import { comparableName, hostnameProblem, isValidHostname } from './names.js';

describe('names', () => {
  it('compares names lowercase, without the trailing dot, IDNs as A-labels', () => {
    expect(comparableName(' WWW.Example.TEST. ')).toBe('www.example.test');
    expect(comparableName('Bücher.example')).toBe('xn--bcher-kva.example');
  });

  it('says what keeps a name from being a host name', () => {
    expect(hostnameProblem('www.example.test')).toBeNull();
    expect(hostnameProblem('a..example')).toBe('has an empty label (two dots in a row)');
    expect(hostnameProblem(`${'a'.repeat(64)}.example`)).toBe(`the label "${'a'.repeat(20)}…" is 64 characters long; DNS allows 63`);
    expect(hostnameProblem('_dmarc.example')).toBe('the label "_dmarc" may hold only letters, digits and inner hyphens');
    expect(hostnameProblem('-a.example')).toBe('the label "-a" may hold only letters, digits and inner hyphens');
    expect(hostnameProblem('localhost')).toBe('not a fully qualified name (a CA validates only names with a dot)');
    expect(hostnameProblem(`${'a.'.repeat(127)}ab`)).toBe('the name is 256 characters long; DNS allows 253');
  });

  it('takes host names, not addresses', () => {
    expect(isValidHostname('Host.Example.test.')).toBe(true);
    expect(isValidHostname('192.0.2.1')).toBe(false);
    expect(isValidHostname('2001:db8::1')).toBe(false);
    expect(isValidHostname('')).toBe(false);
    expect(isValidHostname('host')).toBe(false);
  });
});
