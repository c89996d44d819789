import { createSocket } from 'node:dgram';
import { connect, isIP, isIPv6 } from 'node:net';
import { ANY_ADDRESS, type AddressPolicy } from './address-policy.js';
import { acceptResponse, encodeQuery, type DnsResponse, type EncodedQuery, type QueryType } from './wire.js';

/** The outcome of one query to one server: a response that matched, or a named failure. */
export type QueryResult = { kind: 'response'; response: DnsResponse; tcp: boolean } | { kind: 'timeout' | 'network' | 'malformed'; detail: string };

export interface TransportOptions {
  /** Port of every server asked (53; tests use it too, because referral glue carries no port). */
  port: number;
  timeoutMs: number;
  /** Queries in flight at once across the whole run. */
  concurrency: number;
  /** Which addresses may be asked; default ANY_ADDRESS. */
  addressPolicy?: AddressPolicy;
}

/** Counts a run's traffic, for the benchmark and for tests that prove an answer came from the cache. */
export interface TransportStats {
  udp: number;
  tcp: number;
  ignored: number;
}

/**
 * Sends one question to one server. UDP from a fresh socket (a new random source port) with a random ID; a
 * datagram from another address or port, with another ID or question, or that does not decode, is ignored
 * and counted, and the wait goes on; TC=1 retries over TCP.
 */
export class DnsTransport {
  readonly stats: TransportStats = { udp: 0, tcp: 0, ignored: 0 };
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: TransportOptions) {}

  get port(): number {
    return this.options.port;
  }

  get addressPolicy(): AddressPolicy {
    return this.options.addressPolicy ?? ANY_ADDRESS;
  }

  /** `dnssecOk` asks for RRSIGs, DS and DNSKEY records with the answer (the EDNS0 DO bit). */
  async query(address: string, name: string, type: QueryType, signal: AbortSignal, dnssecOk = false): Promise<QueryResult> {
    const refused = refusal(address, this.addressPolicy);
    if (refused) return refused;
    await this.acquire(signal);
    try {
      const query = encodeQuery(name, type, dnssecOk);
      const udp = await this.udp(address, query, signal);
      if (udp.kind === 'response' && udp.response.tc) return await this.tcp(address, encodeQuery(name, type, dnssecOk), signal);
      return udp;
    } finally {
      this.release();
    }
  }

  /** Over TCP only, for answers known to be large and for tests. */
  async queryTcp(address: string, name: string, type: QueryType, signal: AbortSignal): Promise<QueryResult> {
    const refused = refusal(address, this.addressPolicy);
    if (refused) return refused;
    await this.acquire(signal);
    try {
      return await this.tcp(address, encodeQuery(name, type), signal);
    } finally {
      this.release();
    }
  }

  private udp(address: string, query: EncodedQuery, signal: AbortSignal): Promise<QueryResult> {
    this.stats.udp++;
    const { port, timeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
      let ignored = { malformed: 0, mismatch: 0 };
      const timedOut = (): QueryResult => {
        const dropped = ignored.malformed + ignored.mismatch;
        const note = dropped ? ` (ignored ${ignored.malformed} malformed and ${ignored.mismatch} mismatched datagrams)` : '';
        return { kind: ignored.malformed && !ignored.mismatch ? 'malformed' : 'timeout', detail: `no answer within ${timeoutMs} ms${note}` };
      };
      const finish = settleOnce({ signal, timeoutMs, timedOut, close: () => socket.close(), resolve, reject });
      if (signal.aborted) return;
      socket.on('error', (error) => finish({ kind: 'network', detail: error.message }));
      socket.on('message', (msg, rinfo) => {
        if (rinfo.address !== address || rinfo.port !== port) {
          ignored.mismatch++;
          this.stats.ignored++;
          return;
        }
        const accepted = acceptResponse(msg, query);
        if (typeof accepted === 'string') {
          ignored = { ...ignored, [accepted]: ignored[accepted] + 1 };
          this.stats.ignored++;
          return;
        }
        finish({ kind: 'response', response: accepted, tcp: false });
      });
      // bind(0): the kernel picks a random ephemeral source port for every query.
      socket.bind(0, () => {
        socket.send(query.bytes, port, address, (error) => {
          if (error) finish({ kind: 'network', detail: error.message });
        });
      });
    });
  }

  private tcp(address: string, query: EncodedQuery, signal: AbortSignal): Promise<QueryResult> {
    this.stats.tcp++;
    const { port, timeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address, port });
      let buffer = Buffer.alloc(0);
      const timedOut = (): QueryResult => ({ kind: 'timeout', detail: `no answer over TCP within ${timeoutMs} ms` });
      const finish = settleOnce({ signal, timeoutMs, timedOut, close: () => socket.destroy(), resolve, reject });
      if (signal.aborted) return;
      socket.on('error', (error) => finish({ kind: 'network', detail: `TCP: ${error.message}` }));
      socket.on('close', () => finish({ kind: 'network', detail: 'TCP connection closed before a whole answer' }));
      socket.on('connect', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(query.bytes.length);
        socket.write(Buffer.concat([length, query.bytes]));
      });
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        if (buffer.length < 2) return;
        const size = buffer.readUInt16BE(0);
        if (buffer.length < size + 2) return; // the 16-bit length bounds what we keep
        const accepted = acceptResponse(buffer.subarray(2, size + 2), query);
        if (accepted === 'malformed') finish({ kind: 'malformed', detail: 'malformed answer over TCP' });
        else if (accepted === 'mismatch') finish({ kind: 'malformed', detail: 'TCP answer did not match the question' });
        else finish({ kind: 'response', response: accepted, tcp: true });
      });
    });
  }

  private acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (this.active < this.options.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(go);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(abortError(signal));
      };
      const go = () => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(go);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error('aborted');
  error.name = 'AbortError';
  return error;
}

/** A named failure when `address` may not be asked: not a literal address, or refused by the policy. */
export function refusal(address: string, policy: AddressPolicy): QueryResult | null {
  // Only literal addresses: a name here would make dgram/net ask the system resolver, which we never do.
  if (isIP(address) === 0) return { kind: 'network', detail: `"${address}" is not an IP address` };
  const why = policy.refusal(address);
  return why === null ? null : { kind: 'network', detail: why };
}

interface Exchange {
  signal: AbortSignal;
  timeoutMs: number;
  timedOut: () => QueryResult;
  close: () => void;
  resolve: (result: QueryResult) => void;
  reject: (error: Error) => void;
}

/**
 * The end of one exchange, said once: by its answer, its timeout or the signal, whichever comes first; the socket is
 * closed then. Returns `finish`; when the signal had already fired, the exchange is over before it began.
 */
function settleOnce(exchange: Exchange): (result: QueryResult | Error) => void {
  const { signal } = exchange;
  let settled = false;
  const finish = (result: QueryResult | Error) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    exchange.close();
    if (result instanceof Error) exchange.reject(result);
    else exchange.resolve(result);
  };
  const onAbort = () => finish(abortError(signal));
  const timer = setTimeout(() => finish(exchange.timedOut()), exchange.timeoutMs);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return finish;
}
