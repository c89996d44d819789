import { createHash } from 'node:crypto';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { Endpoint, LiveObservation } from '@certsmith/core';
import { TrustStore } from './trust-store.js';

/** What one handshake with a service showed. */
export interface TlsObservation extends LiveObservation {
  /** The SNI sent; null when none was (an IP address or no name). */
  servername: string | null;
  /** Stable code when the handshake did not happen: LIVE_REFUSED, LIVE_TIMEOUT, LIVE_STARTTLS_FAILED, LIVE_TLS_FAILED, LIVE_ERROR. */
  code?: string;
  /** TLS version agreed, e.g. 'TLSv1.3'. */
  protocol?: string;
  /** OpenSSL's reason the presented chain does not verify to the trust store (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  verifyError?: string;
  /**
   * DER of the chain, leaf first: what the service sent, completed by OpenSSL with the trust anchor when it found
   * one. Kept out of events (the inspector copies what it shows).
   */
  chain?: Buffer[];
}

/** Anything that can tell which certificate a service presents. */
export interface LiveProbe {
  observe(endpoints: Endpoint[], signal: AbortSignal): Promise<TlsObservation[]>;
}

export interface TlsLiveProbeOptions {
  /** Bound on one endpoint: connect, STARTTLS dialogue and handshake together. Default 10 s. */
  timeoutMs?: number;
  /** What the presented chain is verified against; the system store by default. */
  trustStore?: TrustStore;
}

const MAX_LINE = 8 * 1024;
const MAX_LINES = 200;
const EHLO_NAME = 'certsmith.invalid';

/**
 * Handshakes with service endpoints the way a client does: TCP, the protocol's STARTTLS upgrade where it has one
 * (SMTP, IMAP, POP3, FTP AUTH TLS), then TLS with SNI. Never throws: a closed port, a refused upgrade or a
 * timeout is an observation with a code, so the inspection reports it as a finding.
 */
export class TlsLiveProbe implements LiveProbe {
  private readonly timeoutMs: number;
  private readonly trustStore: TrustStore;

  constructor(options: TlsLiveProbeOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.trustStore = options.trustStore ?? TrustStore.fromEnvironment();
  }

  observe(endpoints: Endpoint[], signal: AbortSignal): Promise<TlsObservation[]> {
    return Promise.all(endpoints.map((endpoint) => this.observeOne(endpoint, signal)));
  }

  async observeOne(endpoint: Endpoint, signal: AbortSignal): Promise<TlsObservation> {
    const name = describeEndpoint(endpoint);
    const servername = endpoint.servername && !isIP(endpoint.servername) ? endpoint.servername.replace(/\.$/, '') : null;
    const base = { endpoint: name, servername };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const bounded = AbortSignal.any([signal, timeout]);
    const sockets: Socket[] = [];
    const onAbort = () => sockets.forEach((s) => s.destroy());
    bounded.addEventListener('abort', onAbort, { once: true });
    try {
      if (bounded.aborted) throw bounded.reason;
      const plain = await connectTcp(endpoint, sockets);
      if (endpoint.starttls) await upgrade(plain, endpoint.starttls);
      const tls = await handshake(plain, servername, this.trustStore.pems, sockets);
      const chain = peerChain(tls);
      const leaf = chain[0];
      const verifyError = tls.authorized ? undefined : String(tls.authorizationError ?? 'UNKNOWN');
      const protocol = tls.getProtocol() ?? undefined;
      tls.destroy();
      if (!leaf) return { ...base, ok: false, code: 'LIVE_TLS_FAILED', error: 'the service presented no certificate' };
      return {
        ...base,
        ok: true,
        fingerprint: createHash('sha256').update(leaf).digest('hex'),
        protocol,
        chain,
        ...(verifyError ? { verifyError } : {}),
      };
    } catch (error) {
      if (timeout.aborted) return { ...base, ok: false, code: 'LIVE_TIMEOUT', error: `no TLS handshake within ${this.timeoutMs} ms` };
      if (signal.aborted) return { ...base, ok: false, code: 'LIVE_TIMEOUT', error: 'aborted before the handshake completed' };
      return { ...base, ok: false, ...classify(error) };
    } finally {
      bounded.removeEventListener('abort', onAbort);
      sockets.forEach((s) => s.destroy());
    }
  }
}

/** `host:port`, with the STARTTLS protocol when there is one: how endpoints appear in events and logs. */
export function describeEndpoint(endpoint: Endpoint): string {
  const host = isIP(endpoint.host) === 6 ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${endpoint.port}${endpoint.starttls ? ` (STARTTLS ${endpoint.starttls})` : ''}`;
}

class ProbeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function classify(error: unknown): { code: string; error: string } {
  if (error instanceof ProbeError) return { code: error.code, error: error.message };
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return { code: 'LIVE_REFUSED', error: 'connection refused: nothing listens on this port' };
    case 'ECONNRESET':
      return { code: 'LIVE_TLS_FAILED', error: 'the connection was reset during the handshake' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { code: 'LIVE_UNREACHABLE', error: `the address cannot be reached (${e.code})` };
    default:
      if (typeof e?.code === 'string' && e.code.startsWith('ERR_SSL')) return { code: 'LIVE_TLS_FAILED', error: `TLS handshake failed: ${e.message}` };
      return { code: 'LIVE_ERROR', error: e?.message ?? String(error) };
  }
}

function connectTcp(endpoint: Endpoint, sockets: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: endpoint.host, port: endpoint.port });
    sockets.push(socket);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new ProbeError('LIVE_ERROR', 'the connection closed before it was established')));
  });
}

function handshake(plain: Socket, servername: string | null, ca: string[], sockets: Socket[]): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // rejectUnauthorized false: a certificate that does not verify is exactly what inspection must see and report.
    const tls = tlsConnect({ socket: plain, ...(servername ? { servername } : {}), ca, rejectUnauthorized: false });
    sockets.push(tls);
    tls.once('secureConnect', () => {
      tls.off('error', reject);
      resolve(tls);
    });
    tls.once('error', (error) => reject(new ProbeError('LIVE_TLS_FAILED', `TLS handshake failed: ${error.message}`)));
    tls.once('close', () => reject(new ProbeError('LIVE_TLS_FAILED', 'the service closed the connection during the TLS handshake')));
  });
}

function peerChain(tls: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  let cert: DetailedPeerCertificate | undefined = tls.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** Reads CRLF-terminated lines from a plain socket until the upgrade, then lets go of it. */
class LineReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private count = 0;

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private onData = (chunk: Buffer) => {
    this.buffer += chunk.toString('latin1');
    let at: number;
    while ((at = this.buffer.indexOf('\n')) >= 0) {
      this.lines.push(this.buffer.slice(0, at).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(at + 1);
    }
    if (this.buffer.length > MAX_LINE) this.fail(new ProbeError('LIVE_STARTTLS_FAILED', 'the server sent a line longer than 8 KiB'));
    this.flush();
  };

  private onError = (error: Error) => this.fail(error);
  private onClose = () => this.fail(new ProbeError('LIVE_STARTTLS_FAILED', 'the server closed the connection before the TLS upgrade'));

  private fail(error: Error): void {
    this.failure ??= error;
    this.flush();
  }

  private flush(): void {
    if (!this.waiting) return;
    const line = this.lines.shift();
    if (line !== undefined) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(line);
    } else if (this.failure) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(this.failure);
    }
  }

  next(): Promise<string> {
    if (++this.count > MAX_LINES) return Promise.reject(new ProbeError('LIVE_STARTTLS_FAILED', 'the server sent too many lines before the TLS upgrade'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.flush();
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Stops reading so that TLS can take the socket over. */
  release(): void {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
  }
}

/** A numbered reply (SMTP, FTP): lines `NNN-...` then `NNN ...`; returns the final line and all text. */
async function numberedReply(reader: LineReader): Promise<{ code: string; text: string }> {
  const lines: string[] = [];
  for (;;) {
    const line = await reader.next();
    lines.push(line);
    if (/^\d{3}(?: |$)/.test(line)) return { code: line.slice(0, 3), text: lines.join('\n') };
    if (!/^\d{3}-/.test(line)) throw new ProbeError('LIVE_STARTTLS_FAILED', `unexpected reply: ${line.slice(0, 120)}`);
  }
}

async function upgrade(socket: Socket, protocol: NonNullable<Endpoint['starttls']>): Promise<void> {
  const reader = new LineReader(socket);
  const refused = (what: string, reply: string) => new ProbeError('LIVE_STARTTLS_FAILED', `${what}: ${reply.split('\n').pop()!.slice(0, 200)}`);
  try {
    switch (protocol) {
      case 'smtp': {
        const greeting = await numberedReply(reader);
        if (greeting.code !== '220') throw refused('the SMTP greeting is not 220', greeting.text);
        reader.send(`EHLO ${EHLO_NAME}`);
        const ehlo = await numberedReply(reader);
        if (ehlo.code !== '250') throw refused('EHLO was refused', ehlo.text);
        if (!/^250[ -]STARTTLS\b/im.test(ehlo.text)) throw new ProbeError('LIVE_STARTTLS_FAILED', 'the SMTP server does not offer STARTTLS');
        reader.send('STARTTLS');
        const reply = await numberedReply(reader);
        if (reply.code !== '220') throw refused('STARTTLS was refused', reply.text);
        return;
      }
      case 'ftp': {
        const greeting = await numberedReply(reader);
        if (greeting.code !== '220') throw refused('the FTP greeting is not 220', greeting.text);
        reader.send('AUTH TLS');
        const reply = await numberedReply(reader);
        if (reply.code !== '234') throw refused('AUTH TLS was refused', reply.text);
        return;
      }
      case 'imap': {
        const greeting = await reader.next();
        if (!/^\* (OK|PREAUTH)\b/i.test(greeting)) throw refused('unexpected IMAP greeting', greeting);
        reader.send('c1 STARTTLS');
        for (;;) {
          const line = await reader.next();
          if (line.startsWith('* ')) continue;
          if (/^c1 OK\b/i.test(line)) return;
          throw refused('STARTTLS was refused', line);
        }
      }
      case 'pop3': {
        const greeting = await reader.next();
        if (!greeting.startsWith('+OK')) throw refused('unexpected POP3 greeting', greeting);
        reader.send('STLS');
        const reply = await reader.next();
        if (!reply.startsWith('+OK')) throw refused('STLS was refused', reply);
        return;
      }
      default:
        throw new ProbeError('LIVE_STARTTLS_FAILED', `unknown STARTTLS protocol "${String(protocol)}"`);
    }
  } finally {
    reader.release();
  }
}
