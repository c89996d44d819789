// CAA records BIND refuses to serve (bad tags, lengths that overrun the record) decoded from crafted answers: kept
// and marked malformed, never thrown; and the climb's bookkeeping with a scripted resolver.
import { describe, expect, it } from 'vitest';
import { caaRecordOf, lookupCaa, type CaaLevelResolver } from './caa.js';
import type { Lookup } from './iterative-resolver.js';
import { dnsPacket, type Answer } from './packet.js';
import { acceptResponse, encodeQuery } from './wire.js';

/** An authoritative answer to `query` with CAA records given as raw RDATA. */
function crafted(rdatas: Buffer[]): ReturnType<typeof encodeQuery> & { response: Buffer } {
  const query = encodeQuery('x.caa.test', 'CAA');
  // Encode with placeholder records, then splice the raw RDATA in (dns-packet can only write well-formed CAA).
  const parts = [
    dnsPacket.encode({ type: 'response', id: query.id, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: [{ type: 'CAA', name: 'x.caa.test', class: 'IN' }] }),
  ];
  for (const rdata of rdatas) {
    const owner = dnsPacket.name.encode('x.caa.test');
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(257, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(60, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    parts.push(owner, fixed, rdata);
  }
  const response = Buffer.concat(parts);
  response.writeUInt16BE(rdatas.length, 6); // ANCOUNT
  return { ...query, response };
}

const rdata = (flags: number, tagLength: number, rest: string) => Buffer.concat([Buffer.from([flags, tagLength]), Buffer.from(rest, 'latin1')]);

describe('caaRecordOf on crafted answers', () => {
  it('keeps records with bad tags or overrunning lengths, marked, and decodes the well-formed one beside them', () => {
    const { response, ...query } = crafted([
      rdata(0, 3, 'a-bx'), // a tag with a dash
      rdata(128, 0, 'x'), // an empty tag, critical
      rdata(0, 9, 'ab'), // a tag length that runs past the record
      rdata(0, 5, 'issueca.example'),
      rdata(0, 5, 'issue\xff\xfe'), // a value that is not UTF-8
    ]);
    const accepted = acceptResponse(response, query);
    expect(typeof accepted).toBe('object');
    const records = (accepted as Exclude<typeof accepted, string>).answers.map(caaRecordOf);
    expect(records).toHaveLength(5);
    expect(records[0]).toMatchObject({ flags: 0, tag: 'a-b', value: 'x', malformed: 'the tag is not 1 to 15 letters and digits' });
    expect(records[1]).toMatchObject({ flags: 128, tag: '', malformed: 'the tag is not 1 to 15 letters and digits' });
    expect(records[2]!.malformed).toBeDefined();
    expect(records[3]).toEqual({ flags: 0, tag: 'issue', value: 'ca.example' });
    expect(records[4]).toMatchObject({ tag: 'issue', malformed: expect.stringContaining('RFC 8659') });
  });

  it('marks a record whose data did not decode at all', () => {
    expect(caaRecordOf({ name: 'x', type: 'CAA', data: undefined })).toEqual({ flags: 0, tag: '', value: '', malformed: 'undecodable record data' });
    expect(caaRecordOf({ name: 'x', type: 'CAA', data: { flags: 'no', tag: 5, value: null } })).toMatchObject({
      flags: 0,
      tag: '',
      value: '',
      malformed: expect.any(String),
    });
  });
});

describe('lookupCaa (scripted levels)', () => {
  const scripted = (answers: Record<string, Partial<Lookup>>): CaaLevelResolver & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      lookup: async (name, type) => {
        asked.push(`${name} ${type}`);
        return { name, type, outcome: 'nodata', records: [], cnames: [], zone: 'test', path: [], ...answers[name] };
      },
    };
  };
  const caa = (name: string, value: string): Answer => ({ type: 'CAA', name, ttl: 60, data: { flags: 0, tag: 'issue', value } }) as unknown as Answer;

  it('asks each level from the name to the TLD, never the root, and stops at the first RRset', async () => {
    const resolver = scripted({ 'b.example.test': { outcome: 'ok', records: [caa('b.example.test', 'ca.example')] } });
    const r = await lookupCaa(resolver, '*.a.b.example.test', AbortSignal.timeout(1_000));
    expect(resolver.asked).toEqual(['a.b.example.test CAA', 'b.example.test CAA']);
    expect(r).toMatchObject({ name: 'a.b.example.test', outcome: 'found', level: 'b.example.test', owner: 'b.example.test' });
    const none = scripted({});
    expect((await lookupCaa(none, 'a.example.test', AbortSignal.timeout(1_000))).outcome).toBe('none');
    expect(none.asked).toEqual(['a.example.test CAA', 'example.test CAA', 'test CAA']);
  });

  it('stops the climb at a failure: a parent is not asked when a level cannot be read', async () => {
    const resolver = scripted({ 'a.example.test': { outcome: 'servfail', detail: 'all servers failed' } });
    const r = await lookupCaa(resolver, 'a.example.test', AbortSignal.timeout(1_000));
    expect(r).toMatchObject({ outcome: 'servfail', level: 'a.example.test', detail: 'CAA at a.example.test.: all servers failed' });
    expect(resolver.asked).toEqual(['a.example.test CAA']);
    const loop = await lookupCaa(
      scripted({ 'a.example.test': { outcome: 'error', detail: 'CNAME loop at b.example.test.' } }),
      'a.example.test',
      AbortSignal.timeout(1_000),
    );
    expect(loop.outcome).toBe('loop');
  });
});
