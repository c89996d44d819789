// Hostile and broken servers, faked in-process on loopback: spoofed answers from a second socket, wrong IDs
// and questions, garbage, compression loops, oversized answers, referral loops. None may escape or hang.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { randomInt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { randomLoopback } from '@certsmith/testlab';
import { dnsPacket, type Answer } from './packet.js';
import { ANY_ADDRESS, LOOPBACK_ONLY } from './address-policy.js';
import { DnsTransport, refusal } from './transport.js';
import { sendUpdate } from './update.js';
import { TsigKey } from './tsig.js';
import { IterativeResolver, specialUseTld } from './iterative-resolver.js';

type Reply = (query: ReturnType<typeof dnsPacket.decode>, raw: Buffer, from: RemoteInfo, socket: Socket) => void;

const sockets: (Socket | Server)[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A fake UDP server on a random loopback address; every server of one test shares the port. */
async function fakeServer(port: number, reply: Reply, address = randomLoopback()): Promise<string> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  socket.on('message', (raw, from) => reply(dnsPacket.decode(raw), raw, from, socket));
  await new Promise<void>((resolve) => socket.bind(port, address, resolve));
  return address;
}

function answer(
  query: ReturnType<typeof dnsPacket.decode>,
  fields: { flags?: number; answers?: Answer[]; authorities?: Answer[]; additionals?: Answer[]; id?: number; questionName?: string },
): Buffer {
  const q = query.questions![0]!;
  return dnsPacket.encode({
    type: 'response',
    id: fields.id ?? query.id,
    flags: fields.flags ?? dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ ...q, name: fields.questionName ?? q.name }],
    answers: fields.answers ?? [],
    authorities: fields.authorities ?? [],
    additionals: fields.additionals ?? [],
  });
}

const port = () => randomInt(20_000, 60_000);
const a = (name: string, data: string): Answer => ({ type: 'A', name, ttl: 60, data });

describe('DnsTransport against hostile answers', () => {
  it('ignores a spoofed answer from a second socket and takes the real one', async () => {
    const p = port();
    const spoofer = createSocket('udp4');
    sockets.push(spoofer);
    const address = await fakeServer(p, (query, _raw, from, socket) => {
      // The spoof has the right ID and question but comes from another port: it must be ignored.
      spoofer.send(answer(query, { answers: [a('www.example.test', '6.6.6.6')] }), from.port, from.address);
      setTimeout(() => socket.send(answer(query, { answers: [a('www.example.test', '192.0.2.1')] }), from.port, from.address), 30);
    });
    const transport = new DnsTransport({ port: p, timeoutMs: 1_000, concurrency: 4 });
    const result = await transport.query(address, 'www.example.test', 'A', AbortSignal.timeout(5_000));
    expect(result.kind).toBe('response');
    expect(result.kind === 'response' && result.response.answers.map((r) => r.data)).toEqual(['192.0.2.1']);
    expect(transport.stats.ignored).toBeGreaterThanOrEqual(1);
  });

  it('ignores answers with another ID or another question from the right server', async () => {
    const p = port();
    const address = await fakeServer(p, (query, _raw, from, socket) => {
      socket.send(answer(query, { id: (query.id! + 1) % 65536, answers: [a('www.example.test', '6.6.6.6')] }), from.port, from.address);
      socket.send(answer(query, { questionName: 'evil.example.test', answers: [a('evil.example.test', '6.6.6.6')] }), from.port, from.address);
      socket.send(answer(query, { answers: [a('www.example.test', '192.0.2.2')] }), from.port, from.address);
    });
    const transport = new DnsTransport({ port: p, timeoutMs: 1_000, concurrency: 4 });
    const result = await transport.query(address, 'www.example.test', 'A', AbortSignal.timeout(5_000));
    expect(result.kind === 'response' && result.response.answers.map((r) => r.data)).toEqual(['192.0.2.2']);
    expect(transport.stats.ignored).toBe(2);
  });

  it('uses a fresh source port and a fresh ID for every query', async () => {
    const p = port();
    const seen: { port: number; id: number }[] = [];
    const address = await fakeServer(p, (query, _raw, from, socket) => {
      seen.push({ port: from.port, id: query.id! });
      socket.send(answer(query, { answers: [a('www.example.test', '192.0.2.3')] }), from.port, from.address);
    });
    const transport = new DnsTransport({ port: p, timeoutMs: 1_000, concurrency: 4 });
    for (let i = 0; i < 8; i++) await transport.query(address, 'www.example.test', 'A', AbortSignal.timeout(5_000));
    expect(new Set(seen.map((s) => s.port)).size).toBeGreaterThan(1);
    expect(new Set(seen.map((s) => s.id)).size).toBeGreaterThan(1);
  });

  it('names garbage and compression loops as malformed instead of throwing', async () => {
    const p = port();
    const address = await fakeServer(p, (query, raw, from, socket) => {
      socket.send(Buffer.from('not a dns message'), from.port, from.address);
      // Header of a response with one answer whose name is a pointer to itself (offset 12 → 0xC00C).
      const loop = Buffer.from(raw.subarray(0, 12));
      loop.writeUInt16BE(0x8400, 2);
      loop.writeUInt16BE(1, 4);
      loop.writeUInt16BE(0, 6);
      loop.writeUInt16BE(0, 8);
      loop.writeUInt16BE(0, 10);
      socket.send(Buffer.concat([loop, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]), from.port, from.address);
    });
    const transport = new DnsTransport({ port: p, timeoutMs: 200, concurrency: 4 });
    const result = await transport.query(address, 'www.example.test', 'A', AbortSignal.timeout(5_000));
    expect(result).toEqual({ kind: 'malformed', detail: 'no answer within 200 ms (ignored 2 malformed and 0 mismatched datagrams)' });
  });

  it('takes an oversized UDP answer as it is, and falls back to TCP on TC where garbage is a named failure', async () => {
    const p = port();
    const address = randomLoopback();
    const tcp: Server = createServer((conn) => {
      conn.on('data', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(65_535);
        conn.end(Buffer.concat([length, Buffer.alloc(100, 0xff)])); // promises 64 KiB, sends 100 bytes of junk
      });
    });
    sockets.push(tcp);
    await new Promise<void>((resolve) => tcp.listen(p, address, resolve));
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        const name = query.questions![0]!.name;
        if (name.startsWith('many')) {
          const answers = Array.from({ length: 1_500 }, (_, i) => a(name, `192.0.${Math.floor(i / 250)}.${i % 250}`));
          socket.send(answer(query, { answers }), from.port, from.address);
        } else socket.send(answer(query, { flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE }), from.port, from.address);
      },
      address,
    );
    const transport = new DnsTransport({ port: p, timeoutMs: 2_000, concurrency: 4 });
    const many = await transport.query(address, 'many.example.test', 'A', AbortSignal.timeout(5_000));
    expect(many.kind === 'response' ? many.response.answers.length : many).toBe(1_500);
    const truncated = await transport.query(address, 'www.example.test', 'A', AbortSignal.timeout(5_000));
    expect(truncated.kind).toBe('network');
    expect(transport.stats.tcp).toBe(1);
  });

  it('stops waiting when aborted', async () => {
    const p = port();
    const address = await fakeServer(p, () => undefined);
    const transport = new DnsTransport({ port: p, timeoutMs: 10_000, concurrency: 1 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    await expect(transport.query(address, 'www.example.test', 'A', controller.signal)).rejects.toThrow('run cancelled');
  });
});

describe('IterativeResolver against hostile servers', () => {
  it("ends a caller's wait on its own abort when it shares another caller's address question to a silent server", async () => {
    const p = port();
    const silent = await fakeServer(p, () => undefined);
    const resolver = new IterativeResolver({ rootHints: [{ name: 'a.root', addresses: [silent] }], port: p, timeoutMs: 10_000, retries: 0 });
    const first = new AbortController();
    let firstSettled = false;
    const asked = resolver.ask(silent, 'www.example.test', 'A', first.signal).finally(() => (firstSettled = true));
    const second = new AbortController();
    const shared = resolver.ask(silent, 'www.example.test', 'A', second.signal);
    second.abort(new Error('second run cancelled'));
    await expect(shared).rejects.toThrow('second run cancelled');
    // The first caller's question is still waiting on the server: the second did not wait for its timeout.
    expect(firstSettled).toBe(false);
    first.abort(new Error('first run cancelled'));
    await expect(asked).rejects.toThrow('first run cancelled');
  });

  it('treats a referral to itself, upward or sideways as lame and ends with a named failure', async () => {
    const p = port();
    const root = randomLoopback();
    const other = randomLoopback();
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        // Refers test. to a server that refers test. again (no progress), and then back up to the root.
        socket.send(
          answer(query, { flags: 0, authorities: [{ type: 'NS', name: 'test', ttl: 60, data: 'ns.test' }], additionals: [a('ns.test', other)] }),
          from.port,
          from.address,
        );
      },
      root,
    );
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        const upward = query.questions![0]!.name.startsWith('up');
        const authorities: Answer[] = upward ? [{ type: 'NS', name: '.', ttl: 60, data: 'a.root' }] : [{ type: 'NS', name: 'test', ttl: 60, data: 'ns.test' }];
        socket.send(answer(query, { flags: 0, authorities, additionals: [a('ns.test', other)] }), from.port, from.address);
      },
      other,
    );
    const resolver = new IterativeResolver({ rootHints: [{ name: 'a.root', addresses: [root] }], port: p, timeoutMs: 2_000, retries: 0 });
    const same = await resolver.resolveAddresses('www.example.test', AbortSignal.timeout(5_000));
    expect(same.outcome).toBe('servfail');
    expect(same.detail).toContain('lame delegation (referral up or sideways)');
    const up = await resolver.resolveAddresses('up.example.test', AbortSignal.timeout(5_000));
    expect(up.outcome).toBe('servfail');
  });

  it('ignores out-of-bailiwick answers and glue', async () => {
    const p = port();
    const root = randomLoopback();
    const tld = randomLoopback();
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        // The root refers test. and slips in an address for www.example.test and glue for a name outside test.
        socket.send(
          answer(query, {
            flags: 0,
            authorities: [
              { type: 'NS', name: 'test', ttl: 60, data: 'ns.test' },
              { type: 'NS', name: 'test', ttl: 60, data: 'ns.elsewhere.org' },
            ],
            additionals: [a('ns.test', tld), a('ns.elsewhere.org', '6.6.6.6')],
          }),
          from.port,
          from.address,
        );
      },
      root,
    );
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        const name = query.questions![0]!.name;
        // Authoritative for test., it also answers for a name in another TLD: that record must not be believed.
        if (query.questions![0]!.type === 'A')
          socket.send(answer(query, { answers: [a(name, '192.0.2.9'), a('bank.org', '6.6.6.6')] }), from.port, from.address);
        else
          socket.send(
            answer(query, {
              authorities: [
                { type: 'SOA', name: 'test', ttl: 60, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } },
              ],
            }),
            from.port,
            from.address,
          );
      },
      tld,
    );
    const resolver = new IterativeResolver({ rootHints: [{ name: 'a.root', addresses: [root] }], port: p, timeoutMs: 2_000, retries: 0 });
    const r = await resolver.resolveAddresses('www.example.test', AbortSignal.timeout(5_000));
    expect(r.outcome).toBe('ok');
    expect(r.addresses).toEqual(['192.0.2.9']);
    expect((await resolver.lookup('bank.org', 'A', AbortSignal.timeout(5_000))).records).toEqual([]);
  });

  it('moves on to the next server after a timeout or SERVFAIL', async () => {
    const p = port();
    const root = randomLoopback();
    const silent = randomLoopback();
    const failing = randomLoopback();
    const good = randomLoopback();
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        socket.send(
          answer(query, {
            flags: 0,
            authorities: ['ns1.test', 'ns2.test', 'ns3.test'].map((data) => ({ type: 'NS', name: 'test', ttl: 60, data }) as Answer),
            additionals: [a('ns1.test', silent), a('ns2.test', failing), a('ns3.test', good)],
          }),
          from.port,
          from.address,
        );
      },
      root,
    );
    await fakeServer(p, () => undefined, silent);
    await fakeServer(p, (query, _raw, from, socket) => socket.send(answer(query, { flags: 2 }), from.port, from.address), failing);
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        const q = query.questions![0]!;
        socket.send(answer(query, q.type === 'A' ? { answers: [a(q.name, '192.0.2.77')] } : {}), from.port, from.address);
      },
      good,
    );
    const resolver = new IterativeResolver({ rootHints: [{ name: 'a.root', addresses: [root] }], port: p, timeoutMs: 400, retries: 1 });
    const r = await resolver.lookup('www.test', 'A', AbortSignal.timeout(5_000));
    expect(r.outcome).toBe('ok');
    expect(r.path.slice(1)).toEqual([`ns1.test. (${silent}): timeout`, `ns2.test. (${failing}): SERVFAIL, next server`, `ns3.test. (${good}): answer`]);
  });
});

describe('IterativeResolver and sloppy servers', () => {
  it('follows a referral that wrongly carries the AA flag', async () => {
    const p = port();
    const root = randomLoopback();
    const tld = randomLoopback();
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        socket.send(
          answer(query, { authorities: [{ type: 'NS', name: 'test', ttl: 60, data: 'ns.test' }], additionals: [a('ns.test', tld)] }),
          from.port,
          from.address,
        );
      },
      root,
    );
    await fakeServer(
      p,
      (query, _raw, from, socket) => {
        const q = query.questions![0]!;
        socket.send(answer(query, q.type === 'A' ? { answers: [a(q.name, '192.0.2.5')] } : {}), from.port, from.address);
      },
      tld,
    );
    const resolver = new IterativeResolver({ rootHints: [{ name: 'a.root', addresses: [root] }], port: p, timeoutMs: 2_000, retries: 0 });
    const r = await resolver.lookup('www.test', 'A', AbortSignal.timeout(5_000));
    expect(r.outcome).toBe('ok');
    expect(r.records.map((x) => x.data)).toEqual(['192.0.2.5']);
  });
});

describe('the loopback-only address policy of tests', () => {
  it('sends no query outside loopback (the IANA root hints stay unasked)', async () => {
    const resolver = new IterativeResolver({ timeoutMs: 5_000, addressPolicy: LOOPBACK_ONLY });
    const r = await resolver.resolveAddresses('www.example.com', AbortSignal.timeout(5_000));
    expect(r.outcome).toBe('servfail');
    expect(r.detail).toContain('a.root-servers.net. (198.41.0.4): network, not sent to 198.41.0.4: outside loopback');
    expect(resolver.stats.udp).toBe(0);
  });

  it("refuses only what is outside loopback; the program's default refuses no literal address", () => {
    expect(refusal('198.41.0.4', ANY_ADDRESS)).toBeNull();
    expect(refusal('2001:db8::1', ANY_ADDRESS)).toBeNull();
    expect(refusal('127.0.0.53', LOOPBACK_ONLY)).toBeNull();
    expect(refusal('::1', LOOPBACK_ONLY)).toBeNull();
    expect(refusal('192.0.2.1', LOOPBACK_ONLY)).toEqual({
      kind: 'network',
      detail: "not sent to 192.0.2.1: outside loopback (tests only ask the lab's servers)",
    });
    expect(refusal('ns1.example', ANY_ADDRESS)).toEqual({ kind: 'network', detail: '"ns1.example" is not an IP address' });
  });

  it('refuses a dynamic update to a server outside loopback', async () => {
    const key = new TsigKey('k.', Buffer.alloc(32, 1));
    const target = { zone: 'example.test', server: '192.0.2.1', port: 53, key, timeoutMs: 1_000, addressPolicy: LOOPBACK_ONLY };
    await expect(sendUpdate(target, [{ op: 'delete-rrset', name: 'x.example.test', type: 'TXT' }], AbortSignal.timeout(2_000))).rejects.toThrow(
      'dynamic update of zone example.test. on 192.0.2.1:53 failed: not sent to 192.0.2.1: outside loopback',
    );
  });
});

describe('special-use names (RFC 6761)', () => {
  it('answers .test, .invalid, .localhost ... with NXDOMAIN at once from the IANA hints, sending nothing', async () => {
    const resolver = new IterativeResolver({ timeoutMs: 5_000 });
    for (const name of ['host.sandbox.test', 'x.invalid', 'localhost', 'a.b.internal', 'Printer.Local.']) {
      const r = await resolver.resolveAddresses(name, AbortSignal.timeout(5_000));
      expect(r.outcome).toBe('nxdomain');
      expect(r.detail).toMatch(
        /is a special-use name: the Internet's DNS never delegates it and no public CA issues for it \(answered locally, no query sent\)$/,
      );
    }
    expect((await resolver.lookupCaa('www.sandbox.test', AbortSignal.timeout(5_000))).records ?? []).toEqual([]);
    expect(resolver.stats.udp).toBe(0);
    expect(specialUseTld('www.example.com')).toBeNull();
    expect(specialUseTld('www.example')).toBe('example');
  });

  it('asks a private root (given hints) about them like any other name', async () => {
    const p = port();
    const asked: string[] = [];
    const root = await fakeServer(p, (query, _raw, from, socket) => {
      asked.push(query.questions![0]!.name);
      const q = query.questions![0]!;
      socket.send(answer(query, q.type === 'A' ? { answers: [a(q.name, '127.0.0.9')] } : {}), from.port, from.address);
    });
    const resolver = new IterativeResolver({ rootHints: [{ name: 'a.root', addresses: [root] }], port: p, timeoutMs: 2_000, retries: 0 });
    const r = await resolver.lookup('host.sandbox.test', 'A', AbortSignal.timeout(5_000));
    expect(asked).toEqual(['host.sandbox.test']);
    expect(r.outcome).toBe('ok');
    expect(r.records.map((x) => x.data)).toEqual(['127.0.0.9']);
  });
});

describe('root hints', () => {
  it('keeps only literal addresses and refuses hints without any', async () => {
    const { parseRootHints } = await import('./root-hints.js');
    expect(parseRootHints('. 3600000 NS a.root.\na.root. 3600000 A 127.0.0.10\na.root. 3600000 A localhost\na.root. 3600000 AAAA ::1\n')).toEqual([
      { name: 'a.root', addresses: ['127.0.0.10', '::1'] },
    ]);
    expect(() => parseRootHints('. NS a.root.\na.root. A not-an-address\n', 'hints.txt')).toThrow('hints.txt: no root server with an address');
    const transport = new DnsTransport({ port: 53, timeoutMs: 100, concurrency: 1 });
    expect(await transport.query('localhost', 'x.test', 'A', AbortSignal.timeout(1_000))).toEqual({
      kind: 'network',
      detail: '"localhost" is not an IP address',
    });
  });
});

describe('names', () => {
  it('asks for IDNs as A-labels', async () => {
    const { normalizeName } = await import('./wire.js');
    expect(normalizeName('Bücher.Example.TEST.')).toBe('xn--bcher-kva.example.test');
    expect(normalizeName('_acme-challenge.WWW.example.test')).toBe('_acme-challenge.www.example.test');
  });
});
