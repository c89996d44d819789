import { describe, expect, it } from 'vitest';
import { IANA_ROOT_HINTS, parseRootHints, readRootHints } from './root-hints.js';

describe('parseRootHints', () => {
  it('reads the IANA hints: 13 root servers, each with its IPv4 and IPv6 address, IPv4 first', () => {
    const servers = readRootHints(IANA_ROOT_HINTS);
    expect(servers).toHaveLength(13);
    for (const server of servers) {
      expect(server.addresses).toHaveLength(2);
      expect(server.addresses[0]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(server.addresses[1]).toContain(':');
    }
  });

  it('keeps an address only when it is one of its record type', () => {
    const text = [
      '. 3600000 NS a.root.test.',
      '. 3600000 NS b.root.test.',
      'a.root.test. 3600000 A 127.0.0.1',
      'a.root.test. 3600000 AAAA ::1',
      'a.root.test. 3600000 AAAA 127.0.0.2', // an IPv4 address in an AAAA line
      'a.root.test. 3600000 A ::2', // an IPv6 address in an A line
      'b.root.test. 3600000 AAAA fe80::zz', // not an address
      'b.root.test. 3600000 A 127.0.0.300',
      'b.root.test. 3600000 AAAA 2001:db8::53',
    ].join('\n');
    expect(parseRootHints(text)).toEqual([
      { name: 'a.root.test', addresses: ['127.0.0.1', '::1'] },
      { name: 'b.root.test', addresses: ['2001:db8::53'] },
    ]);
  });

  it('refuses hints with no usable address, naming the file', () => {
    expect(() => parseRootHints('. NS a.root.test.\na.root.test. AAAA nonsense', '/etc/hints')).toThrow(/^\/etc\/hints: no root server with an address/);
  });
});
