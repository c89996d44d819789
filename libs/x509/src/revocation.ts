import { X509Certificate } from 'node:crypto';
import type { Dispatcher } from 'undici';

/** The ASN.1 half, loaded on the first check that goes on the network. */
const codec = () => import('./revocation-codec.js');

/**
 * good / revoked / unknown are the responder's answers; unreachable means no answer (down, slow, HTTP error);
 * invalid means an answer that cannot be trusted (bad signature, wrong certificate, unparsable, stale).
 */
export type RevocationStatus = 'good' | 'revoked' | 'unknown' | 'unreachable' | 'invalid';

export interface RevocationResult {
  method: 'ocsp' | 'crl';
  status: RevocationStatus;
  url: string;
  /** One line for the administrator. */
  detail: string;
  revokedAt?: string;
  reason?: string;
}

export interface RevocationCheckerOptions {
  /** Bound on one request (connect, headers and body). Default 10 s. */
  timeoutMs?: number;
  /** Largest response accepted. Default 4 MiB (CRLs can be large). */
  maxBytes?: number;
  dispatcher?: Dispatcher;
}

/** The OCSP responder URLs of a certificate's AIA extension. */
export function ocspUrls(cert: X509Certificate): string[] {
  return [...(cert.infoAccess ?? '').matchAll(/^OCSP - URI:(\S+)$/gm)].map((m) => m[1]!);
}

/** The CRL distribution point URLs of a certificate (http and https only). */
export async function crlUrls(der: Uint8Array): Promise<string[]> {
  return (await codec()).crlUrls(der);
}

/**
 * Asks whether a certificate is revoked: OCSP to the responder of its AIA extension (RFC 6960, request built with
 * @peculiar/asn1-ocsp, sent with undici), else the CRL of its distribution point. Never throws: every outcome is
 * a result, and only `revoked` is a reason to replace.
 */
export class RevocationChecker {
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(private readonly options: RevocationCheckerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  /** null when the certificate names neither an OCSP responder nor a CRL. */
  async check(certDer: Uint8Array, issuerDer: Uint8Array, now: Date, signal: AbortSignal): Promise<RevocationResult | null> {
    let cert: X509Certificate;
    let issuer: X509Certificate;
    try {
      cert = new X509Certificate(certDer);
      issuer = new X509Certificate(issuerDer);
    } catch {
      return null;
    }
    const ocsp = ocspUrls(cert).find((u) => /^https?:\/\//i.test(u));
    if (ocsp) return this.ocsp(ocsp, certDer, issuerDer, issuer, now, signal);
    const crl = (await crlUrls(certDer))[0];
    if (crl) return this.crl(crl, certDer, issuerDer, now, signal);
    return null;
  }

  async ocsp(url: string, certDer: Uint8Array, issuerDer: Uint8Array, issuer: X509Certificate, now: Date, signal: AbortSignal): Promise<RevocationResult> {
    const { ocspRequest, ocspVerdict } = await codec();
    let ask: ReturnType<typeof ocspRequest>;
    try {
      ask = ocspRequest(certDer, issuerDer);
    } catch (error) {
      return { method: 'ocsp', status: 'invalid', url, detail: `cannot build the OCSP request: ${(error as Error).message}` };
    }
    const fetched = await this.fetch(url, { method: 'POST', body: ask.body, contentType: 'application/ocsp-request' }, signal);
    if ('error' in fetched) return { method: 'ocsp', status: 'unreachable', url, detail: `OCSP responder ${url}: ${fetched.error}` };
    return ocspVerdict(url, fetched.body, ask.certId, issuer, now);
  }

  async crl(url: string, certDer: Uint8Array, issuerDer: Uint8Array, now: Date, signal: AbortSignal): Promise<RevocationResult> {
    const fetched = await this.fetch(url, { method: 'GET' }, signal);
    if ('error' in fetched) return { method: 'crl', status: 'unreachable', url, detail: `CRL ${url}: ${fetched.error}` };
    return (await codec()).crlVerdict(url, fetched.body, certDer, issuerDer, now);
  }

  private async fetch(
    url: string,
    req: { method: 'GET' | 'POST'; body?: Buffer; contentType?: string },
    signal: AbortSignal,
  ): Promise<{ body: Buffer } | { error: string }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const bounded = AbortSignal.any([signal, timeout]);
    try {
      const { request } = await import('undici'); // only a network check needs the HTTP client
      const response = await request(url, {
        method: req.method,
        body: req.body,
        signal: bounded,
        maxRedirections: 0,
        headers: req.contentType ? { 'content-type': req.contentType } : {},
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
      } as Parameters<typeof request>[1]);
      if (response.statusCode !== 200) {
        await response.body.dump().catch(() => undefined);
        return { error: `HTTP ${response.statusCode}` };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.maxBytes) {
          response.body.destroy();
          return { error: `the response is larger than ${this.maxBytes} bytes` };
        }
        chunks.push(chunk as Buffer);
      }
      return { body: Buffer.concat(chunks) };
    } catch (error) {
      if (timeout.aborted) return { error: `no answer within ${this.timeoutMs} ms` };
      if (signal.aborted) return { error: 'aborted' };
      const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
      const code = e.cause?.code ?? e.code;
      return { error: code === 'ECONNREFUSED' ? 'connection refused' : `${code ? `${code}: ` : ''}${e.cause?.message ?? e.message}` };
    }
  }
}
