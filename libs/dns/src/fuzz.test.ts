// Mutated responses through the decoder and the resolver's answer handling: nothing may throw or hang.
import { describe, expect, it } from 'vitest';
import { dnsPacket, type Answer } from './packet.js';
import { classifyResponse } from './iterative-resolver.js';
import { findTsig } from './tsig.js';
import { acceptResponse, type EncodedQuery, type QueryType } from './wire.js';

/** A small deterministic PRNG (mulberry32), so that a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const soa = {
  type: 'SOA',
  name: 'example.test',
  ttl: 60,
  data: { mname: 'ns1.example.test', rname: 'h.example.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 30 },
} as Answer;

function seedPackets(): { query: EncodedQuery; zone: string; bytes: Buffer }[] {
  const make = (
    name: string,
    type: QueryType,
    zone: string,
    flags: number,
    sections: { answers?: Answer[]; authorities?: Answer[]; additionals?: Answer[] },
  ) => {
    const query: EncodedQuery = { id: 4242, name, type, bytes: Buffer.alloc(0) };
    const bytes = dnsPacket.encode({ type: 'response', id: 4242, flags, questions: [{ type, name, class: 'IN' }], ...sections });
    return { query, zone, bytes };
  };
  const AA = dnsPacket.AUTHORITATIVE_ANSWER;
  return [
    make('www.example.test', 'A', 'example.test', AA, {
      answers: [
        { type: 'CNAME', name: 'www.example.test', ttl: 60, data: 'host.example.test' },
        { type: 'A', name: 'host.example.test', ttl: 60, data: '192.0.2.1' },
      ],
    }),
    make('www.example.test', 'AAAA', 'example.test', AA, { answers: [{ type: 'AAAA', name: 'www.example.test', ttl: 60, data: '2001:db8::1' }] }),
    make('www.example.test', 'A', '', 0, {
      authorities: [
        { type: 'NS', name: 'test', ttl: 60, data: 'ns1.test' },
        { type: 'NS', name: 'test', ttl: 60, data: 'ns2.test' },
      ],
      additionals: [
        { type: 'A', name: 'ns1.test', ttl: 60, data: '127.0.0.11' },
        { type: 'AAAA', name: 'ns2.test', ttl: 60, data: '::1' },
      ],
    }),
    make('nope.example.test', 'A', 'example.test', AA | 3, { authorities: [soa] }),
    make('_cpanel-dcv-test-record.example.test', 'TXT', 'example.test', AA, {
      answers: [{ type: 'TXT', name: '_cpanel-dcv-test-record.example.test', ttl: 60, data: ['abc', 'def'] }],
    }),
    make('example.test', 'NS', 'example.test', AA, {
      answers: [{ type: 'NS', name: 'example.test', ttl: 60, data: 'ns1.example.test' }],
      additionals: [{ type: 'A', name: 'ns1.example.test', ttl: 60, data: '127.0.0.12' }],
    }),
  ];
}

function mutate(bytes: Buffer, random: () => number): Buffer {
  const out = Buffer.from(bytes);
  const pick = (n: number) => Math.floor(random() * n);
  switch (pick(6)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + pick(6); i < n; i++) out[pick(out.length)] = pick(256);
      return out;
    case 1: // cut short
      return out.subarray(0, pick(out.length));
    case 2: {
      // a compression pointer to anywhere, including itself and later data
      if (out.length < 14) return out;
      const at = 12 + pick(out.length - 13);
      const target = pick(out.length + 16);
      out[at] = 0xc0 | ((target >> 8) & 0x3f);
      if (at + 1 < out.length) out[at + 1] = target & 0xff;
      return out;
    }
    case 3: {
      // absurd section counts
      if (out.length < 12) return out;
      out.writeUInt16BE(pick(65_536), 4 + 2 * pick(4));
      return out;
    }
    case 4: // append junk
      return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + pick(64) }, () => pick(256)))]);
    default: {
      // splice a slice of the message into another place
      const from = pick(out.length);
      const slice = out.subarray(from, from + pick(32));
      const at = pick(out.length);
      return Buffer.concat([out.subarray(0, at), slice, out.subarray(at)]);
    }
  }
}

describe('fuzzing the response handling', () => {
  // About 3 s on an idle 2-core machine; the bound only keeps a loaded CI machine from failing it.
  it('survives 120,000 mutated responses without an exception', { timeout: 180_000 }, () => {
    const random = prng(0x5eed);
    const seeds = seedPackets();
    const tally: Record<string, number> = {};
    const kinds = new Set(['malformed', 'mismatch', 'answer', 'cname', 'nxdomain', 'nodata', 'referral', 'lame']);
    for (let i = 0; i < 120_000; i++) {
      const seed = seeds[i % seeds.length]!;
      let bytes = mutate(seed.bytes, random);
      if (random() < 0.3) bytes = mutate(bytes, random);
      let kind: string;
      try {
        const accepted = acceptResponse(bytes, seed.query);
        kind = typeof accepted === 'string' ? accepted : classifyResponse(accepted, seed.zone, seed.query.name, seed.query.type).kind;
        findTsig(bytes);
      } catch (error) {
        throw new Error(`mutation ${i} (seed packet ${i % seeds.length}) threw: ${(error as Error).message}\n${bytes.toString('hex')}`);
      }
      if (!kinds.has(kind)) throw new Error(`mutation ${i}: unknown outcome ${kind}`);
      tally[kind] = (tally[kind] ?? 0) + 1;
    }
    // The mutations reach every branch, not only the decoder's rejections.
    for (const kind of ['malformed', 'mismatch', 'answer', 'referral', 'lame', 'nxdomain']) expect(tally[kind] ?? 0).toBeGreaterThan(100);
  });
});
