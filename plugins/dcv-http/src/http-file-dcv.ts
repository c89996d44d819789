import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import {
  answers,
  CertsmithError,
  relayOf,
  type AddressPreference,
  type Bus,
  type Challenge,
  type DcvCheckOptions,
  type DcvMethod,
  type NameVerdict,
  type Published,
  type Resolution,
  type Resolver,
  type Target,
} from '@certsmith/core';
import type { AddressPolicy, AuthoritativeAddresses } from '@certsmith/dns';
import { firstOfEachFamily, judgeDualStack, verdictOf, type AddressOutcome } from './address-preference.js';
import { isPrivateAddress, sameAddress } from './addresses.js';
import { Docroot, type DocrootFile } from './docroot.js';
import { judgeEveryAddress, warnOfOtherAddresses, type AddressProof } from './every-address.js';
import { fetchOnce, type FetchLimits, type FetchOutcome } from './http-fetch.js';
import { hostForHttpDcv } from './http-host.js';
import { PublishLedger } from './publish-ledger.js';
import { everyServersAddresses, judgeServerAgreement, serverDisagreement } from './server-agreement.js';

/** Every authoritative server's A and AAAA for a host (the DNS library's authoritativeAddresses, on the run's resolver). */
export type AskAuthoritative = (host: string, signal: AbortSignal) => Promise<AuthoritativeAddresses>;

/** The fetch of one address of a name (an exact address, the first of a family, or the first): check's or the dry run's. */
type Prover = (resolution: Resolution, start: string | 4 | 6 | undefined, signal: AbortSignal) => Promise<AddressOutcome>;

/** One name being judged: its resolution and how each of its addresses is fetched. */
interface Proving {
  name: string;
  host: string;
  resolution: Resolution;
  prove: Prover;
  signal: AbortSignal;
  /** What a passing address did, as the lines say it ('served the file' unless given). */
  served?: string;
}

/** How many redirects a CA follows, and where to. */
export type RedirectPolicy = 'none' | 'acme';

export interface HttpFileDcvSettings {
  /** Docroot of every target without its own (cPanel: /var/www/html for the hostname). */
  docroot: string;
  /** Per-target docroots, by target id. */
  docroots: Record<string, string>;
  /** This server's own addresses (config `server.addresses`): private ones among them are fine. */
  serverAddresses: string[];
  /** Where the list of published files lives (a subdirectory of the state directory). */
  ledgerDir: string;
  /** Redirects allowed for the local probe: 'none' as Sectigo, 'acme' as RFC 8555 CAs. */
  probeRedirects: RedirectPolicy;
  limits: FetchLimits;
  /** Where a fetch may go: the run's DNS address policy (a test composition keeps every packet on loopback). */
  addressPolicy?: AddressPolicy;
}

/** RFC 8555 leaves the number to the CA; Let's Encrypt follows 10. */
const ACME_MAX_REDIRECTS = 10;

/** A file in place below a docroot, with its ledger entry. */
interface PublishedFile {
  docroot: Docroot;
  urlPath: string;
  content: Buffer;
  written: DocrootFile;
  ledgerId: string;
}

interface Handle extends PublishedFile {
  host: string;
  /** Key of the shared probe this name uses (see HttpFileDcv.shared). */
  shared?: string;
  /** Cleaned up already: a second cleanup must not count as another name's. */
  cleaned?: boolean;
}

/** A probe file the names of a target use together; removed when the last of them is cleaned up. */
interface SharedProbe {
  content: Buffer;
  file: Promise<PublishedFile>;
  users: number;
}

/**
 * The HTTP file DCV method: publishes cPanel's local probe, Sectigo's pki-validation file or an ACME http-01
 * file below the target's docroot, proves it as the CA will fetch it (the name resolved from the root, the first
 * address, the original Host header), and removes it again.
 */
export class HttpFileDcv implements DcvMethod {
  readonly id = 'http-file';
  private readonly ledger: PublishLedger;
  private readonly docroots = new Map<string, Docroot>();
  /**
   * Probes in place, by docroot and URL path. The pipeline gives the names of a target one probe: they share a
   * docroot, so one file serves them all (creating a file is the costly part of a probe on some file systems).
   */
  private readonly shared = new Map<string, SharedProbe>();

  constructor(
    private readonly settings: HttpFileDcvSettings,
    private readonly resolver: Resolver | undefined,
    private readonly bus: Bus | undefined,
    /** Without it (a resolver that is not the iterative one), the servers' agreement is not checked. */
    private readonly askAuthoritative?: AskAuthoritative,
  ) {
    this.ledger = new PublishLedger(settings.ledgerDir);
  }

  readonly answers = ['probe', 'http-file'] as const;

  async publish(challenge: Challenge, target: Target, signal: AbortSignal): Promise<Published> {
    signal.throwIfAborted();
    if (!answers(this, challenge)) throw new CertsmithError('DCV_HTTP_UNSUPPORTED', `HTTP file DCV cannot publish a "${challenge.kind}" challenge`);
    const host = hostForHttpDcv(challenge.name);
    if (!this.resolver) {
      throw new CertsmithError(
        'DCV_NO_RESOLVER',
        'HTTP DCV needs the iterative resolver (core token Resolver), and none is bound: load the DNS library in the composition root',
      );
    }
    const { urlPath, content } = fileOf(challenge);
    const configured = this.settings.docroots[target.id];
    const root = configured ?? this.settings.docroot;
    let docroot = this.docroots.get(root);
    if (!docroot) {
      docroot = new Docroot(root, configured ? `options.docroots["${target.id}"] of @certsmith/dcv-http` : 'options.docroot of @certsmith/dcv-http');
      this.docroots.set(root, docroot);
    }
    let file: PublishedFile;
    let shared: string | undefined;
    if (challenge.kind === 'probe') {
      // Set before the first await, so that names published at the same time find it.
      shared = `${root}\0${urlPath}`;
      const probe = this.shared.get(shared);
      if (probe && probe.content.equals(content)) {
        probe.users++;
        file = await probe.file;
      } else if (probe) {
        shared = undefined; // the same token with other content: written (and refused) as any other file
        file = await this.write(docroot, urlPath, content);
      } else {
        const entry: SharedProbe = { content, file: this.write(docroot, urlPath, content), users: 1 };
        this.shared.set(shared, entry);
        file = await entry.file.catch((error: unknown) => {
          if (this.shared.get(shared!) === entry) this.shared.delete(shared!);
          throw error;
        });
      }
    } else {
      file = await this.write(docroot, urlPath, content);
    }
    const handle: Handle = { ...file, host, ...(shared ? { shared } : {}) };
    return { method: this.id, challenge, where: `http://${host}${urlPath} (${file.written.file})`, handle };
  }

  /** Writes one file below the docroot, recorded in the ledger first. */
  private async write(docroot: Docroot, urlPath: string, content: Buffer): Promise<PublishedFile> {
    const real = await docroot.ensureUsable();
    await this.ledger.sweep();
    // Recorded before the write, so that a run killed between the two leaves a leftover the next run recognises.
    const ledgerId = await this.ledger.record(join(real, ...urlPath.split('/').filter(Boolean)), content);
    // Each directory the write makes is recorded as soon as it exists, and stays until the end of the run (close()).
    let written: DocrootFile;
    try {
      written = await docroot.write(urlPath, content, (dir, st) => this.ledger.recordDir(dir, st));
    } catch (error) {
      await this.ledger.forget(ledgerId);
      throw error;
    }
    return { docroot, urlPath, content, written, ledgerId };
  }

  /**
   * The end of the run: removes the directories this run made below the docroots (`.well-known/acme-challenge`),
   * where empty. Runs by itself when the process exits; a run killed before is tidied by the next one's sweep.
   */
  async close(): Promise<void> {
    this.ledger.close();
  }

  async check(published: Published, outer: AbortSignal, options: DcvCheckOptions = {}): Promise<NameVerdict> {
    // The resolver and the HTTP client each listen on the signal: one relay per check keeps the caller's count low.
    const scope = relayOf(outer);
    try {
      return await this.checkWithin(published, scope.signal, options.addressPreference ?? 'first', options.redirects);
    } finally {
      scope.release();
    }
  }

  /**
   * The file over the addresses the issuer's CA uses ('every': all of them; else as it picks, the others warned of),
   * and the name's addresses from every authoritative server of its zone, at once.
   */
  private async checkWithin(published: Published, signal: AbortSignal, preference: AddressPreference, redirects?: RedirectPolicy): Promise<NameVerdict> {
    const prove: Prover = (resolution, start, scope) => this.prove(published, resolution, start, scope, redirects);
    return this.judge(published.challenge.name, (published.handle as Handle).host, prove, preference, signal);
  }

  /**
   * What a CA would see of a name, over the addresses its preference makes it use, with `prove` as the fetch of one
   * address (the published file; for a dry run, any answer of a web server): the same judgement for both.
   */
  private async judge(name: string, host: string, prove: Prover, preference: AddressPreference, signal: AbortSignal, served?: string): Promise<NameVerdict> {
    const [resolution, servers] = await Promise.all([this.resolve(host, signal), this.askServers(host, signal)]);
    const finding = servers ? serverDisagreement(host, servers, resolution.addresses) : null;
    // 'every': the CA's perspectives may each reach another server, so every address any server gives must serve.
    const addresses = preference === 'every' && servers && finding ? everyServersAddresses(resolution.addresses, servers) : resolution.addresses;
    const at: Proving = { name, host, resolution: { ...resolution, addresses }, prove, signal, served };
    const verdict = preference === 'every' ? await checkEveryAddress(at) : await checkAsPicked(at, preference);
    if (!servers) return verdict;
    return judgeServerAgreement(verdict, finding, servers.zone, preference);
  }

  /** Every authoritative server's answer for the host; null without the iterative resolver or when the zone's servers cannot be found (the resolution says why). */
  private async askServers(host: string, signal: AbortSignal): Promise<AuthoritativeAddresses | null> {
    if (!this.askAuthoritative) return null;
    try {
      return await this.askAuthoritative(host, signal);
    } catch (error) {
      // Only the DNS library's own failures (DNS_ZONE_NOT_FOUND, DNS_NO_NAMESERVERS): anything else is a bug to see.
      if (signal.aborted || !String((error as { code?: unknown }).code ?? '').startsWith('DNS_')) throw error;
      return null;
    }
  }

  /**
   * Fetches the file as the CA will, following redirects as its policy allows, starting at `start`: an address of the
   * name, else the first address of that family (else the first address).
   */
  private async prove(
    published: Published,
    resolved: Resolution,
    start: string | 4 | 6 | undefined,
    signal: AbortSignal,
    issuerRedirects?: RedirectPolicy,
  ): Promise<AddressOutcome> {
    const handle = published.handle as Handle;
    const name = published.challenge.name;
    // The CA's own file says how it is reached; a probe follows the issuer's CA, else the plugin's setting.
    const policy: RedirectPolicy = published.challenge.kind === 'http-file' ? published.challenge.redirects : (issuerRedirects ?? this.settings.probeRedirects);
    let scheme: 'http' | 'https' = 'http';
    let host = handle.host;
    let path = handle.urlPath;
    let resolution: Resolution | null = resolved;
    let address: string | null = null;
    const redirects: string[] = [];
    // Let's Encrypt retries over IPv4 only when the first request's connection failed, not a redirect's.
    const fail = (code: string, reason: string, short: string, connection = false): AddressOutcome => ({
      ok: false,
      address,
      code,
      reason,
      short,
      connection: connection && redirects.length === 0,
    });
    const exact = typeof start === 'string' ? start : undefined;
    const family = typeof start === 'string' ? (isIP(start) as 4 | 6) : start;
    for (;;) {
      const located = this.locate(host, resolution ?? (await this.resolve(host, signal)), family, resolution ? exact : undefined);
      resolution = null;
      address = located.address ?? null;
      if ('code' in located) return fail(located.code, located.reason, located.short);
      const url = `${scheme}://${host}${path}`;
      const outcome = await this.fetch(scheme, located.address, host, path, signal);
      const at = `${url} (at ${located.address})`;
      switch (outcome.kind) {
        case 'connect-timeout':
          return fail(
            'DCV_HTTP_TIMEOUT',
            `timeout: could not connect to ${located.address} port ${scheme === 'http' ? 80 : 443} within ${seconds(this.settings.limits.connectTimeoutMs)}; is the web server running and the port open in the firewall?`,
            'connection timed out',
            true,
          );
        case 'read-timeout':
          return fail(
            'DCV_HTTP_TIMEOUT',
            outcome.total
              ? `timeout: ${at} did not finish answering within ${seconds(this.settings.limits.connectTimeoutMs + this.settings.limits.readTimeoutMs)}; the web server is too slow or stuck`
              : `timeout: ${at} did not answer within ${seconds(this.settings.limits.readTimeoutMs)}; the web server is too slow or stuck`,
            'timeout',
          );
        case 'refused':
          return fail(
            'DCV_HTTP_REFUSED',
            `${located.address} refused the connection on port ${scheme === 'http' ? 80 : 443}: no web server listens there for ${host}`,
            'connection refused',
            true,
          );
        case 'error':
          return fail('DCV_HTTP_FETCH_FAILED', `fetching ${at} failed: ${outcome.detail}`, 'fetch failed');
        case 'response':
          break;
      }
      const { status } = outcome;
      if (status >= 300 && status < 400 && outcome.location) {
        const line = `Redirection #${redirects.length + 1} (${name}): ${url} → ${outcome.location}`;
        redirects.push(line);
        if (policy === 'none') {
          return fail(
            'DCV_HTTP_REDIRECT_NOT_ALLOWED',
            `redirect not allowed (the CA follows none): ${line}; serve the file directly, e.g. exclude /.well-known/ from the redirect`,
            'redirect not allowed',
          );
        }
        if (redirects.length > ACME_MAX_REDIRECTS)
          return fail('DCV_HTTP_TOO_MANY_REDIRECTS', `more than ${ACME_MAX_REDIRECTS} redirects: ${line}`, 'too many redirects');
        const next = this.followable(outcome.location, url);
        if ('reason' in next) return fail('DCV_HTTP_REDIRECT_NOT_ALLOWED', `redirect not allowed (${next.reason}): ${line}`, 'redirect not allowed');
        ({ scheme, host, path } = next);
        continue;
      }
      const history = redirects.length ? ` after ${redirects.join('; ')}` : '';
      if (status === 404) {
        return fail(
          'DCV_HTTP_NOT_FOUND',
          `404: ${at} was not found${history}; the web server does not serve ${handle.docroot.root} for ${host}: set its document root, or this plugin's docroot option, so that they agree`,
          '404',
        );
      }
      if (status !== 200)
        return fail(
          'DCV_HTTP_STATUS',
          `${at} answered HTTP ${status}${history} instead of 200 with the file; check the web server's configuration for ${host}`,
          `HTTP ${status}`,
        );
      if (outcome.truncated) {
        return fail(
          'DCV_HTTP_WRONG_CONTENT',
          `wrong content: ${at} answered with more than ${this.settings.limits.maxBodyBytes / 1024} KiB${history}, not the ${handle.content.length}-byte file; another site or an error page answers for ${host}`,
          'wrong content',
        );
      }
      if (!outcome.body.equals(handle.content)) {
        return fail(
          'DCV_HTTP_WRONG_CONTENT',
          `wrong content: ${at} answered ${outcome.body.length} bytes (${preview(outcome.body)})${history}, not the published file; another server, site or proxy answers for ${host}`,
          'wrong content',
        );
      }
      return redirects.length ? { ok: true, address: located.address, reason: `followed ${redirects.join('; ')}` } : { ok: true, address: located.address };
    }
  }

  /**
   * For --dry-run, writing nothing: the name is resolved from the root as the CA will, and judged as check() judges
   * it (the addresses its CA's preference uses, under 'every' each of them, and every authoritative server's answer),
   * where an address passes when cPanel's address rule lets it and a web server answers there for the name (any HTTP
   * answer to a path that cannot exist: the file itself is not published, so the docroot is not proved).
   */
  async precheck(name: string, _target: Target, outer: AbortSignal, options: DcvCheckOptions = {}): Promise<NameVerdict> {
    if (!this.resolver) throw new CertsmithError('DCV_NO_RESOLVER', 'HTTP DCV needs the iterative resolver (core token Resolver), and none is bound');
    let host: string;
    try {
      host = hostForHttpDcv(name);
    } catch (error) {
      return { name, ok: false, code: (error as CertsmithError).code ?? 'DCV_HTTP_BAD_NAME', reason: (error as Error).message };
    }
    const path = `/.well-known/pki-validation/certsmith-dry-run-${randomBytes(8).toString('hex')}.txt`;
    const scope = relayOf(outer);
    try {
      const reach: Prover = (resolution, start, signal) => this.reach(host, path, resolution, start, signal);
      return await this.judge(name, host, reach, options.addressPreference ?? 'first', scope.signal, 'answered');
    } finally {
      scope.release();
    }
  }

  /** One GET of the file at an address, unless the address policy keeps the run from sending anything there. */
  private fetch(scheme: 'http' | 'https', address: string, host: string, path: string, signal: AbortSignal): Promise<FetchOutcome> {
    const refused = this.settings.addressPolicy?.refusal(address);
    if (refused) return Promise.resolve({ kind: 'error', detail: refused });
    return fetchOnce(scheme, address, host, path, this.settings.limits, signal);
  }

  /** The dry run's fetch of one address, picked as prove() picks it: whether a web server answers there for the host. */
  private async reach(host: string, path: string, resolution: Resolution, start: string | 4 | 6 | undefined, signal: AbortSignal): Promise<AddressOutcome> {
    const exact = typeof start === 'string' ? start : undefined;
    const located = this.locate(host, resolution, typeof start === 'string' ? (isIP(start) as 4 | 6) : start, exact);
    const address = located.address ?? null;
    const fail = (code: string, reason: string, short: string, connection = false): AddressOutcome => ({ ok: false, address, code, reason, short, connection });
    if ('code' in located) return fail(located.code, located.reason, located.short);
    const outcome = await this.fetch('http', located.address, host, path, signal);
    switch (outcome.kind) {
      case 'response':
        return { ok: true, address: located.address };
      case 'refused':
        return fail(
          'DCV_HTTP_REFUSED',
          `${located.address} refused the connection on port 80: no web server listens there for ${host}`,
          'connection refused',
          true,
        );
      case 'error':
        return fail('DCV_HTTP_FETCH_FAILED', `fetching http://${host}${path} (at ${located.address}) failed: ${outcome.detail}`, 'fetch failed');
      default: {
        const reason = `timeout: http://${host}/ (at ${located.address}) did not answer in time; is the web server running and the port open in the firewall?`;
        const connect = outcome.kind === 'connect-timeout';
        return fail('DCV_HTTP_TIMEOUT', reason, connect ? 'connection timed out' : 'timeout', connect);
      }
    }
  }

  async cleanup(published: Published): Promise<void> {
    const handle = published.handle as Handle | undefined;
    if (!handle || handle.cleaned) return;
    handle.cleaned = true;
    if (handle.shared) {
      const probe = this.shared.get(handle.shared);
      if (probe && --probe.users > 0) return; // another name still uses the file
      this.shared.delete(handle.shared);
    }
    await handle.docroot.remove(handle.written);
    await this.ledger.forget(handle.ledgerId);
  }

  /** Resolves a host from the root, as the CA will, and says so on the bus. */
  private async resolve(host: string, signal: AbortSignal): Promise<Resolution> {
    const resolution = await this.resolver!.resolveAddresses(host, signal);
    this.bus?.emit('dns-resolved', { name: host, addresses: resolution.addresses, path: resolution.path, chosen: resolution.chosen });
    return resolution;
  }

  /**
   * The address the CA will use: `exact` when given, else the first of `family` when the host has one, else the first
   * address; then cPanel's address rule (a private address must be this server's; with server.addresses set, only those).
   */
  private locate(
    host: string,
    resolution: Resolution,
    family: 4 | 6 | undefined,
    exact?: string,
  ): { address: string } | { address?: string; code: string; reason: string; short: string } {
    // The resolver may already call a private first address an error; the address rule below says it in full.
    const address = exact ?? ((family && resolution.addresses.find((a) => isIP(a) === family)) || resolution.chosen);
    if (!address) {
      const detail = resolution.detail ? ` (${resolution.detail})` : '';
      const short = 'no address';
      // A CA that validates DNSSEC (all must, since March 2026) fails the name: said as what it is, not as a missing record.
      if (resolution.dnssec === 'bogus') return { code: 'DNSSEC_BOGUS', reason: resolution.detail ?? `DNSSEC_BOGUS: ${host}`, short };
      switch (resolution.outcome) {
        case 'nxdomain':
          // A special-use name (.test, ...) answered by the resolver itself: no record would help, the resolver says why.
          if (resolution.detail?.includes('special-use'))
            return { code: 'DCV_HTTP_NO_ADDRESS', reason: `${host} does not resolve: ${resolution.detail}`, short };
          return { code: 'DCV_HTTP_NO_ADDRESS', reason: `${host} does not resolve (NXDOMAIN): create an A or AAAA record pointing at this server`, short };
        case 'ok':
        case 'nodata':
          return { code: 'DCV_HTTP_NO_ADDRESS', reason: `${host} does not resolve: it has no A or AAAA record; add one pointing at this server`, short };
        case 'timeout':
          return { code: 'DCV_HTTP_NO_ADDRESS', reason: `${host} does not resolve: its nameservers did not answer in time${detail}`, short };
        default:
          return {
            code: 'DCV_HTTP_NO_ADDRESS',
            reason: `${host} does not resolve (${resolution.outcome})${detail}: check the zone's delegation and nameservers`,
            short,
          };
      }
    }
    const own = this.settings.serverAddresses.some((a) => sameAddress(a, address));
    if (own) return { address };
    if (isPrivateAddress(address)) {
      return {
        address,
        code: 'DCV_HTTP_PRIVATE_ADDRESS',
        reason: `${host} resolves to the private address ${address}, which is not one of this server's (server.addresses): a CA cannot reach it; point the name at this server's public address, or list ${address} in server.addresses if it is this server's`,
        short: "a private address that is not this server's",
      };
    }
    if (this.settings.serverAddresses.length) {
      return {
        address,
        code: 'DCV_HTTP_NOT_THIS_SERVER',
        reason: `${host} resolves to ${address}, which is not one of this server's addresses (server.addresses: ${this.settings.serverAddresses.join(', ')}): point its A/AAAA record at this server`,
        short: "not one of this server's addresses",
      };
    }
    return { address };
  }

  /** RFC 8555 §8.3 as CAs apply it: http or https, on the default ports, to a host name. */
  private followable(location: string, base: string): { scheme: 'http' | 'https'; host: string; path: string } | { reason: string } {
    let url: URL;
    try {
      url = new URL(location, base);
    } catch {
      return { reason: 'the Location header is not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: `the CA follows only http and https, not ${url.protocol.slice(0, -1)}` };
    if (url.port !== '') return { reason: `the CA follows redirects only to ports 80 and 443, not ${url.port}` };
    const bare = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(bare)) return { reason: 'the CA does not follow a redirect to an IP address' };
    let host: string;
    try {
      host = hostForHttpDcv(bare);
    } catch (error) {
      return { reason: (error as Error).message };
    }
    return { scheme: url.protocol === 'https:' ? 'https' : 'http', host, path: `${url.pathname}${url.search}` };
  }
}

function fileOf(challenge: Challenge): { urlPath: string; content: Buffer } {
  switch (challenge.kind) {
    case 'probe':
      if (!/^[A-Za-z0-9_-]{8,128}$/.test(challenge.token))
        throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `probe for ${challenge.name}: the token is not a plain file name`);
      return { urlPath: `/.well-known/pki-validation/${challenge.token}.txt`, content: Buffer.from(challenge.content, 'utf8') };
    case 'http-file':
      // The docroot refuses anything but a plain path; validation files live under /.well-known/ only.
      if (!/^\/\.well-known\/[A-Za-z0-9_./-]{1,300}$/.test(challenge.path) || challenge.path.includes('..'))
        throw new CertsmithError('DCV_HTTP_BAD_CHALLENGE', `http-file for ${challenge.name}: "${challenge.path}" is not a plain path under /.well-known/`);
      return { urlPath: challenge.path, content: Buffer.from(challenge.body, 'utf8') };
    default:
      throw new CertsmithError('DCV_HTTP_UNSUPPORTED', `HTTP file DCV cannot publish a "${challenge.kind}" challenge`);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** A short, printable start of an unexpected body, for the reason. */
function preview(body: Buffer): string {
  const text = body
    .subarray(0, 40)
    .toString('utf8')
    .replace(/[^\x20-\x7e]/g, '?');
  return body.length === 0 ? 'empty' : `"${text}${body.length > 40 ? '…' : ''}"`;
}

/**
 * A name with one address family is proved through its first address (cPanel's rule). A name with AAAA and A is
 * proved over the first of each, and judged by how the issuer's CA picks between them. Its other addresses are
 * fetched at the same time, for a warning.
 */
async function checkAsPicked(at: Proving, preference: AddressPreference): Promise<NameVerdict> {
  const { name, host, resolution, prove, signal } = at;
  const { v6, v4 } = firstOfEachFamily(resolution.addresses);
  const picked = v6 && v4 ? [v6, v4] : resolution.addresses.slice(0, 1);
  const others = resolution.addresses.filter((a) => !picked.includes(a));
  const [decisive, rest] = await Promise.all([
    v6 && v4 ? Promise.all([prove(resolution, 6, signal), prove(resolution, 4, signal)]) : prove(resolution, undefined, signal).then((outcome) => [outcome]),
    proveEach(at, others),
  ]);
  const verdict = v6 && v4 ? judgeDualStack(name, host, decisive[0]!, decisive[1]!, preference) : verdictOf(name, decisive[0]!);
  const pickedProofs = picked.map((address, i) => ({ address, outcome: decisive[i]! }));
  return warnOfOtherAddresses(verdict, host, pickedProofs, rest, at.served);
}

/** 'every': the file over each A and AAAA address, at once; each must serve it. */
async function checkEveryAddress(at: Proving): Promise<NameVerdict> {
  const { name, host, resolution, prove, signal } = at;
  if (resolution.addresses.length <= 1) return verdictOf(name, await prove(resolution, undefined, signal));
  return judgeEveryAddress(name, host, await proveEach(at, resolution.addresses), at.served);
}

/** Each of `addresses` fetched at once. */
async function proveEach(at: Proving, addresses: string[]): Promise<AddressProof[]> {
  const outcomes = await Promise.all(addresses.map((address) => at.prove(at.resolution, address, at.signal)));
  return addresses.map((address, i) => ({ address, outcome: outcomes[i]! }));
}
