import { BlockList, isIP } from 'node:net';
import { CertsmithError, type CaaLookup, type Resolution, type Resolver } from '@certsmith/core';
import { lookupCaa } from './caa.js';
import { readRootHints, type HintServer } from './root-hints.js';
import type { AddressPolicy } from './address-policy.js';
import { DnsTransport, abortError, type QueryResult, type TransportStats } from './transport.js';
import { addressData, ancestors, fqdn, isWithin, nameData, normalizeName, ttlOf, type DnsRecord, type DnsResponse, type QueryType } from './wire.js';
import { signaturesOver } from './dnssec/rrset.js';
import {
  validateChain,
  validateDenial,
  type DnssecStatus,
  type FetchedDs,
  type FetchedKeys,
  type SignedAnswer,
  type SignedDenial,
  type ZoneCut,
  type ZoneKeysResult,
} from './dnssec/chain.js';
import type { DsData } from './dnssec/types.js';
import { IANA_ROOT_TRUST_ANCHORS, readTrustAnchors } from './dnssec/trust-anchors.js';

export interface IterativeResolverOptions {
  /** Root servers to start from; default: the IANA hints shipped with this package. */
  rootHints?: HintServer[];
  /** Port of every nameserver (53; the lab uses 53 too). */
  port?: number;
  /** Per-server, per-try timeout. */
  timeoutMs?: number;
  /** Extra tries of a server that timed out before moving to the next one. */
  retries?: number;
  /** Queries in flight at once across the run. */
  concurrency?: number;
  /** This server's own addresses: a private or loopback answer is accepted only when it is one of them. */
  ownAddresses?: string[];
  /**
   * Answer names under a special-use TLD (.test, .invalid, ...) with NXDOMAIN at once, without a query. Default: when
   * resolving from the IANA hints, as RFC 6761 asks of a caching server (the Internet's root holds none of them and no
   * public CA issues for them); a private root (rootHints given) is asked like any other.
   */
  answerSpecialUseLocally?: boolean;
  /** Which nameserver addresses may be asked; default ANY_ADDRESS (a test composition: LOOPBACK_ONLY). */
  addressPolicy?: AddressPolicy;
  /** DNSSEC validation from these trust anchors (the root's DS); absent or null: none, and no DO bit. */
  dnssec?: DnssecOptions;
}

export interface DnssecOptions {
  trustAnchors: DsData[] | null;
  /** The clock RRSIG validity windows are judged by; default the system's. */
  now?: () => Date;
  /**
   * Told once per zone and reason when a signed zone is treated as unsigned because it uses an algorithm, DS digest
   * or NSEC3 parameter this validator does not know (RFC 6840 section 5.2): code DNSSEC_UNSUPPORTED.
   */
  warn?: (warning: { code: string; message: string }) => void;
}

/**
 * TLDs that the Internet's DNS never delegates: RFC 6761 (test, example, invalid, localhost), RFC 6762 (local),
 * RFC 7686 (onion), RFC 9476 (alt), and internal (reserved by ICANN for private use).
 */
export const SPECIAL_USE_TLDS: readonly string[] = ['test', 'example', 'invalid', 'localhost', 'local', 'onion', 'alt', 'internal'];

/** The special-use TLD a name ends in, or null. */
export function specialUseTld(name: string): string | null {
  const tld = normalizeName(name).split('.').at(-1) ?? '';
  return SPECIAL_USE_TLDS.includes(tld) ? tld : null;
}

/** The outcome of resolving one name and type from the root down. */
export interface Lookup {
  name: string;
  type: QueryType;
  outcome: Resolution['outcome'];
  /** The RRset of `type` at the end of the CNAME chain (empty unless outcome is ok). */
  records: DnsRecord[];
  /** CNAME targets followed, in order. */
  cnames: string[];
  /** The zone whose authoritative server gave the final answer ('' is the root); null on failure. */
  zone: string | null;
  /** Servers asked and referrals taken. */
  path: string[];
  detail?: string;
  /** With DNSSEC on, the verdict on an ok answer's final RRset (a bogus one is outcome 'error', no records). */
  dnssec?: DnssecStatus;
}

/** What an answer carries until DNSSEC has judged it: each RRset on the way (CNAMEs, then the final one) or its denial. */
interface Evidence {
  evidence?: { links: SignedAnswer[]; denial?: SignedDenial };
}

/** A CNAME of a response's chain with its RRSIGs. */
interface SignedLink {
  name: string;
  record: DnsRecord;
  signatures: DnsRecord[];
}

/** An authoritative server of a zone, one entry per address. */
export interface NameServer {
  name: string;
  address: string;
}

interface NsEntry {
  name: string;
  /** null until a glueless name is resolved. */
  addresses: string[] | null;
}

interface Delegation {
  zone: string;
  servers: NsEntry[];
  expires: number;
  /** The DS RRset the referral carried (DNSSEC on); the root has none. */
  cut?: ZoneCut;
}

/** What every step from a server carries for DNSSEC: the chain's CNAMEs signed, the authority section, the server. */
interface StepEvidence {
  links?: SignedLink[];
  authority?: DnsRecord[];
  server?: string;
  /** The zone of the server asked. */
  asked?: string;
}

type Step =
  | ({ kind: 'answer'; records: DnsRecord[]; chain: string[]; zone: string; signatures?: DnsRecord[] } & StepEvidence)
  | ({ kind: 'cname'; chain: string[]; target: string; zone: string } & StepEvidence)
  | ({ kind: 'nxdomain'; chain: string[]; zone: string; ttl: number } & StepEvidence)
  | ({ kind: 'nodata'; chain: string[]; zone: string; ttl: number } & StepEvidence)
  | ({ kind: 'referral'; zone: string; servers: NsEntry[]; ttl: number; ds?: DnsRecord[]; dsSignatures?: DnsRecord[] } & StepEvidence)
  | { kind: 'lame'; why: string };

type Failure = { kind: 'fail'; outcome: 'servfail' | 'timeout' | 'error'; detail: string };

interface Walk {
  signal: AbortSignal;
  path: string[];
  /** name|type keys being resolved on this call stack: a glueless cycle ends here instead of looping. */
  stack: Set<string>;
  depth: number;
}

/** How long a server's answer to an address question stands for the same question to it (see ask). */
const HEARD_MS = 2_000;
const MAX_REFERRALS = 24;
const MAX_CNAMES = 8;
const MAX_GLUELESS_DEPTH = 4;

/**
 * Resolves names from the root hints, never /etc/resolv.conf: follows referrals (glue only from the
 * bailiwick of the server asked, glueless NS names resolved on the way), chases CNAME chains (bounded), keeps
 * NXDOMAIN and NODATA apart from failures, and moves on from a server that times out, fails or is lame.
 * Answers and delegations are cached for their TTL within the life of the resolver (one run).
 */
export class IterativeResolver implements Resolver {
  readonly transport: DnsTransport;
  private readonly root: Delegation;
  private readonly delegations = new Map<string, Delegation>();
  private readonly answers = new Map<string, { lookup: Lookup; expires: number }>();
  private readonly inflight = new Map<string, Promise<Lookup>>();
  /** Address questions asked of one server lately, with what came back (see ask). */
  private readonly heard = new Map<string, { until: number; result: Promise<QueryResult> }>();
  private readonly retries: number;
  private readonly own: Set<string>;
  private readonly specialUseLocally: boolean;
  private readonly dnssec: { trustAnchors: DsData[]; now: () => Date; warn?: DnssecOptions['warn'] } | null;
  /** Warnings already given (DnssecOptions.warn), so that each is given once per resolver. */
  private readonly warned = new Set<string>();
  /** DNSKEY RRsets fetched for validation, by zone, for the life of the resolver. */
  private readonly zoneKeys = new Map<string, Promise<FetchedKeys>>();
  /** DS answers asked to find a zone cut that no referral showed, by name, for the life of the resolver. */
  private readonly dsAnswers = new Map<string, Promise<FetchedDs>>();
  /** Each zone's walk from the trust anchors (its keys or why none), for the life of the resolver. */
  private readonly zoneWalks = new Map<string, Promise<ZoneKeysResult>>();

  constructor(options: IterativeResolverOptions = {}) {
    this.specialUseLocally = options.answerSpecialUseLocally ?? options.rootHints === undefined;
    const hints = options.rootHints ?? readRootHints();
    this.root = { zone: '', servers: hints.map((h) => ({ name: normalizeName(h.name), addresses: orderAddresses(h.addresses) })), expires: Infinity };
    this.transport = new DnsTransport({
      port: options.port ?? 53,
      timeoutMs: options.timeoutMs ?? 2_000,
      concurrency: options.concurrency ?? 64,
      addressPolicy: options.addressPolicy,
    });
    this.retries = options.retries ?? 1;
    this.own = new Set((options.ownAddresses ?? []).map((a) => a.toLowerCase()));
    const anchors = options.dnssec?.trustAnchors;
    this.dnssec = anchors ? { trustAnchors: anchors, now: options.dnssec?.now ?? (() => new Date()), warn: options.dnssec?.warn } : null;
  }

  /**
   * Built from the config's `dns` section and `server.addresses`; `addressPolicy` from the composition. With
   * `dnssec`, answers are validated from `trustAnchor` (a file of root DS lines), by default IANA's root anchors.
   */
  static fromConfig(
    dns: { rootHints: string | null; timeoutMs: number; retries: number; port: number; dnssec?: boolean; trustAnchor?: string | null },
    ownAddresses: string[] = [],
    addressPolicy?: AddressPolicy,
    warn?: DnssecOptions['warn'],
  ): IterativeResolver {
    const trustAnchors = dns.trustAnchor ? readTrustAnchors(dns.trustAnchor) : [...IANA_ROOT_TRUST_ANCHORS];
    return new IterativeResolver({
      addressPolicy,
      rootHints: dns.rootHints ? readRootHints(dns.rootHints) : undefined,
      timeoutMs: dns.timeoutMs,
      retries: dns.retries,
      port: dns.port,
      ownAddresses,
      dnssec: dns.dnssec ? { trustAnchors, warn } : undefined,
    });
  }

  get stats(): TransportStats {
    return this.transport.stats;
  }

  /** A and AAAA together; AAAA first; the first address is chosen; a private or loopback one is an error unless it is ours. */
  async resolveAddresses(name: string, signal: AbortSignal): Promise<Resolution> {
    const qname = normalizeName(name);
    const [six, four] = await Promise.all([this.lookup(qname, 'AAAA', signal), this.lookup(qname, 'A', signal)]);
    if (signal.aborted) throw abortError(signal);
    const addresses = [...six.records, ...four.records].map(addressData).filter((a): a is string => a !== null);
    const path = [...four.path, ...six.path.map((p) => `AAAA: ${p}`)];
    const cnames = four.cnames.length ? four.cnames : six.cnames;
    const base = { name: qname, addresses, cnames, path, chosen: addresses[0] ?? null };
    const bogus = [six, four].find((l) => l.dnssec?.status === 'bogus');
    if (bogus) return { ...base, addresses: [], chosen: null, outcome: 'error', detail: bogus.detail, dnssec: 'bogus' };
    const dnssec = this.dnssec ? addressSecurity([six, four]) : undefined;
    if (addresses.length) {
      const chosen = addresses[0]!;
      if (isPrivateAddress(chosen) && !this.own.has(chosen.toLowerCase())) {
        return {
          ...base,
          outcome: 'error',
          detail: `${qname} resolves to ${chosen}, a private or loopback address that is not one of this server's (server.addresses)`,
        };
      }
      return { ...base, outcome: 'ok', ...(dnssec && { dnssec }) };
    }
    // Both empty: a negative answer when both agree it is one, else the failure of the A lookup (or AAAA).
    const failed = [four, six].find((l) => l.outcome !== 'ok' && l.outcome !== 'nxdomain' && l.outcome !== 'nodata');
    if (failed) return { ...base, outcome: failed.outcome, detail: failed.detail };
    const outcome = four.outcome === 'nxdomain' && six.outcome === 'nxdomain' ? 'nxdomain' : 'nodata';
    const negative = four.detail?.includes('special-use') ? four.detail : `${qname} does not exist (NXDOMAIN)`;
    return { ...base, outcome, detail: outcome === 'nxdomain' ? negative : `${qname} has no A or AAAA record`, ...(dnssec && { dnssec }) };
  }

  /** The relevant CAA RRset of a name (RFC 8659 climb, see caa.ts). Throws only when aborted. */
  lookupCaa(name: string, signal: AbortSignal): Promise<CaaLookup> {
    return lookupCaa(this, name, signal);
  }

  /** One name and type, from the root (or the closest cached delegation) down. Throws only when aborted. */
  async lookup(name: string, type: QueryType, signal: AbortSignal, options: { followCnames?: boolean } = {}): Promise<Lookup> {
    const qname = normalizeName(name);
    const follow = options.followCnames ?? true;
    const key = `${qname}|${type}|${follow}`;
    const cached = this.answers.get(key);
    if (cached && cached.expires > Date.now()) return cached.lookup;
    const running = this.inflight.get(key);
    if (running) return running;
    const special = this.specialUseLocally ? specialUseTld(qname) : null;
    if (special) {
      const why = `.${special} is a special-use name: the Internet's DNS never delegates it and no public CA issues for it (answered locally, no query sent)`;
      return {
        name: qname,
        type,
        outcome: 'nxdomain',
        records: [],
        cnames: [],
        zone: null,
        path: [`answered locally: .${special} is special-use`],
        detail: why,
      };
    }
    const promise = this.walk(qname, type, follow, { signal, path: [], stack: new Set(), depth: 0 }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  /**
   * The zone that holds `name` (the apex of the authoritative data for it), found iteratively.
   * Throws a CertsmithError (DNS_ZONE_NOT_FOUND) when no server answers for it.
   */
  async zoneOf(name: string, signal: AbortSignal): Promise<{ zone: string; path: string[] }> {
    const lookup = await this.lookup(name, 'SOA', signal, { followCnames: false });
    if (lookup.zone === null || (lookup.outcome !== 'ok' && lookup.outcome !== 'nodata' && lookup.outcome !== 'nxdomain')) {
      throw new CertsmithError('DNS_ZONE_NOT_FOUND', `cannot find the zone of ${name}: ${lookup.detail ?? lookup.outcome}`);
    }
    return { zone: lookup.zone, path: lookup.path };
  }

  /**
   * Every authoritative server of a zone with its addresses: the NS set the zone publishes joined with the
   * one its parent delegates to. Throws DNS_NO_NAMESERVERS when none has an address.
   */
  async nameServers(zone: string, signal: AbortSignal): Promise<{ servers: NameServer[]; byName: Map<string, string[]>; path: string[] }> {
    const apex = normalizeName(zone);
    const lookup = await this.lookup(apex, 'NS', signal, { followCnames: false });
    const names: string[] = [];
    for (const r of lookup.records) {
      const target = r.type === 'NS' ? nameData(r) : null;
      if (target && !names.includes(target)) names.push(target);
    }
    const delegation = this.delegations.get(apex);
    for (const entry of delegation?.servers ?? []) if (!names.includes(entry.name)) names.push(entry.name);
    const byName = new Map<string, string[]>();
    await Promise.all(
      names.map(async (ns) => {
        const glue = delegation?.servers.find((s) => s.name === ns)?.addresses;
        if (glue?.length) {
          byName.set(ns, glue);
          return;
        }
        const a = await this.lookup(ns, 'A', signal);
        byName.set(
          ns,
          a.records.map(addressData).filter((x): x is string => x !== null),
        );
      }),
    );
    // One server reachable over IPv4 and IPv6 is one server: ask it over IPv4 when it has such an address, since
    // many hosts have no IPv6 route (an address that cannot be reached would fail every check).
    const servers = names.flatMap((ns) => {
      const all = byName.get(ns) ?? [];
      const v4 = all.filter((a) => isIP(a) === 4);
      return (v4.length ? v4 : all).map((address) => ({ name: ns, address }));
    });
    if (servers.length === 0) {
      throw new CertsmithError('DNS_NO_NAMESERVERS', `no nameserver of zone ${fqdn(apex)} has an address (${lookup.detail ?? lookup.outcome})`);
    }
    return { servers, byName, path: lookup.path };
  }

  /**
   * One question to one server, retried on timeout; no recursion and no cache, except that an address question
   * (A, AAAA) asked of the same server within HEARD_MS is answered by the response heard then (or awaited if still
   * in flight): the pre-check resolves a name and then asks each of its zone's servers for the same addresses, and
   * the server that gave the resolution would only be asked again the same thing in the same second.
   */
  ask(address: string, name: string, type: QueryType, signal: AbortSignal): Promise<QueryResult> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    const qname = normalizeName(name);
    if (type !== 'A' && type !== 'AAAA') return this.askAnew(address, qname, type, signal);
    const key = `${address}|${qname}|${type}`;
    const now = Date.now();
    const heard = this.heard.get(key);
    // Another caller's abort is not this one's: its own question is asked then; this one's ends its wait at once.
    if (heard && heard.until > now)
      return untilAborted(
        heard.result.catch(() => this.askAnew(address, qname, type, signal)),
        signal,
      );
    if (this.heard.size >= 4_096) for (const [k, h] of this.heard) if (h.until <= now) this.heard.delete(k);
    const result = this.askAnew(address, qname, type, signal);
    this.heard.set(key, { until: now + HEARD_MS, result });
    // Only a response is worth reusing: a timeout or a network error is asked again by whoever asks next.
    void result.then(
      (r) => r.kind === 'response' || this.forget(key, result),
      () => this.forget(key, result),
    );
    return result;
  }

  private forget(key: string, result: Promise<QueryResult>): void {
    if (this.heard.get(key)?.result === result) this.heard.delete(key);
  }

  private async askAnew(address: string, qname: string, type: QueryType, signal: AbortSignal): Promise<QueryResult> {
    let result: QueryResult = { kind: 'timeout', detail: 'not asked' };
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      result = await this.transport.query(address, qname, type, signal, this.dnssec !== null);
      if (result.kind !== 'timeout') break;
    }
    return result;
  }

  private async walk(qname: string, type: QueryType, follow: boolean, walk: Walk): Promise<Lookup> {
    let lookup = await this.resolveChain(qname, type, follow, walk);
    if (this.dnssec) lookup = await this.judge(lookup, this.dnssec, walk.signal);
    this.remember(lookup, follow);
    return lookup;
  }

  /**
   * Validates an answer from the trust anchors down: each CNAME on the way in its own zone, then the final RRset, or
   * the NSEC/NSEC3 proof of an NXDOMAIN or NODATA. The first bogus one makes the lookup an error whose detail starts
   * with DNSSEC_BOGUS; else any insecure one makes it insecure.
   */
  private async judge(lookup: Lookup & Evidence, dnssec: NonNullable<typeof this.dnssec>, signal: AbortSignal): Promise<Lookup> {
    const { evidence, ...plainLookup } = lookup;
    if (!evidence) return plainLookup;
    const context = {
      trustAnchors: dnssec.trustAnchors,
      cutOf: (zone: string) => this.delegations.get(zone)?.cut,
      fetchKeys: (zone: string) => this.fetchKeys(zone, signal),
      fetchDs: (name: string) => this.fetchDs(name, signal),
      now: dnssec.now(),
      walks: this.zoneWalks,
    };
    const verdicts = await Promise.all([
      ...evidence.links.map((link) => validateChain(link, context)),
      ...(evidence.denial ? [validateDenial(evidence.denial, context)] : []),
    ]);
    for (const v of verdicts) if (v.status === 'insecure' && v.unsupported) this.warnOnce(v.reason, dnssec.warn);
    const status = verdicts.find((v) => v.status === 'bogus') ?? verdicts.find((v) => v.status === 'insecure') ?? { status: 'secure' as const };
    if (status.status !== 'bogus') return { ...plainLookup, dnssec: status };
    return { ...plainLookup, outcome: 'error', records: [], dnssec: status, detail: `DNSSEC_BOGUS: ${status.reason}` };
  }

  private warnOnce(reason: string, warn: DnssecOptions['warn']): void {
    if (!warn || this.warned.has(reason)) return;
    this.warned.add(reason);
    warn({ code: 'DNSSEC_UNSUPPORTED', message: `${reason}: the name is treated as unsigned (insecure), not bogus` });
  }

  /** A zone's DNSKEY RRset and its RRSIGs from the zone's own servers, once per zone. */
  private fetchKeys(zone: string, signal: AbortSignal): Promise<FetchedKeys> {
    let fetched = this.zoneKeys.get(zone);
    if (!fetched) {
      fetched = this.resolveOne(zone, 'DNSKEY', { signal, path: [], stack: new Set(), depth: 0 }).then((step): FetchedKeys => {
        if (step.kind === 'answer') return { records: [...step.records, ...(step.signatures ?? [])], server: step.server ?? '?' };
        if (step.kind === 'fail') return { failure: step.detail, transient: true };
        return { failure: `${fqdn(zone)} DNSKEY: ${step.kind === 'nodata' ? 'no DNSKEY record' : step.kind}` };
      });
      this.zoneKeys.set(zone, fetched);
      forgetIfRejected(this.zoneKeys, zone, fetched);
      forgetIfTransient(this.zoneKeys, zone, fetched);
    }
    return fetched;
  }

  /**
   * A name's DS RRset, or the denial of one, from the servers of the closest delegation above it (the parent side
   * answers a DS question even where it also serves the child), once per name: how a cut no referral showed is found.
   */
  private fetchDs(name: string, signal: AbortSignal): Promise<FetchedDs> {
    let fetched = this.dsAnswers.get(name);
    if (!fetched) {
      fetched = this.resolveOne(name, 'DS', { signal, path: [], stack: new Set(), depth: 0 }).then((step): FetchedDs => {
        const server = step.kind === 'fail' ? '?' : (step.server ?? '?');
        if (step.kind === 'answer') return { ds: step.records, signatures: step.signatures ?? [], authority: step.authority ?? [], server };
        if (step.kind === 'nodata' || step.kind === 'nxdomain') return { ds: [], signatures: [], authority: step.authority ?? [], server };
        return step.kind === 'fail' ? { failure: step.detail, transient: true } : { failure: `${fqdn(name)} DS: a CNAME` };
      });
      this.dsAnswers.set(name, fetched);
      forgetIfRejected(this.dsAnswers, name, fetched);
      forgetIfTransient(this.dsAnswers, name, fetched);
    }
    return fetched;
  }

  private remember(lookup: Lookup, follow: boolean): void {
    let ttl = 0;
    if (lookup.outcome === 'ok') ttl = ttlOf(lookup.records);
    else if (lookup.outcome === 'nxdomain' || lookup.outcome === 'nodata') ttl = Number((lookup as Lookup & { negativeTtl?: number }).negativeTtl ?? 0);
    if (ttl > 0) this.answers.set(`${lookup.name}|${lookup.type}|${follow}`, { lookup, expires: Date.now() + ttl * 1000 });
  }

  private async resolveChain(qname: string, type: QueryType, follow: boolean, walk: Walk): Promise<Lookup> {
    const cnames: string[] = [];
    let current = qname;
    const done = (outcome: Lookup['outcome'], extra: Partial<Lookup> = {}): Lookup => ({
      name: qname,
      type,
      outcome,
      records: [],
      cnames,
      zone: null,
      path: walk.path,
      ...extra,
    });
    const links: SignedAnswer[] = [];
    const withEvidence = (lookup: Lookup, denial?: SignedDenial): Lookup => (this.dnssec ? Object.assign(lookup, { evidence: { links, denial } }) : lookup);
    for (let hop = 0; hop <= MAX_CNAMES; hop++) {
      const step = await this.resolveOne(current, type, walk);
      if (step.kind === 'fail') return done(step.outcome, { detail: step.detail });
      links.push(...cnameEvidence(step));
      for (const target of step.chain) {
        if (target === qname || cnames.includes(target))
          return done('error', { detail: `CNAME loop at ${fqdn(target)} (chain: ${[qname, ...cnames].map(fqdn).join(' → ')})` });
        cnames.push(target);
        if (cnames.length > MAX_CNAMES)
          return done('error', { detail: `CNAME chain longer than ${MAX_CNAMES} (chain: ${[qname, ...cnames].map(fqdn).join(' → ')})` });
      }
      if (step.kind === 'answer') {
        const name = step.records[0]?.name ?? current;
        const server = step.server ?? '?';
        links.push({ name, type, records: step.records, signatures: step.signatures ?? [], zone: step.zone, server, authority: step.authority });
        return withEvidence(done('ok', { records: step.records, zone: step.zone }));
      }
      if (step.kind === 'nxdomain' || step.kind === 'nodata') {
        const last = step.chain.at(-1) ?? current;
        const denial: SignedDenial = { kind: step.kind, name: last, type, zone: step.zone, server: step.server ?? '?', authority: step.authority ?? [] };
        const negative = done(step.kind, {
          zone: step.zone,
          detail: `${fqdn(cnames.at(-1) ?? qname)}: ${step.kind === 'nxdomain' ? 'NXDOMAIN' : `no ${type} record`}`,
        });
        return Object.assign(withEvidence(negative, denial), { negativeTtl: step.ttl });
      }
      // step.kind === 'cname': the chain leaves the zone that answered
      if (!follow) return withEvidence(done('ok', { zone: step.zone, detail: `${fqdn(qname)} is an alias of ${fqdn(step.target)}` }));
      current = step.target;
    }
    return done('error', { detail: `CNAME chain longer than ${MAX_CNAMES} (chain: ${[qname, ...cnames].map(fqdn).join(' → ')})` });
  }

  /** Walks down from the closest known delegation until a server of the right zone answers. */
  private async resolveOne(qname: string, type: QueryType, walk: Walk): Promise<Exclude<Step, { kind: 'referral' | 'lame' }> | Failure> {
    let delegation = this.closestDelegation(qname);
    if (delegation.zone !== '') walk.path.push(`cached delegation ${fqdn(delegation.zone)}`);
    for (let referrals = 0; referrals <= MAX_REFERRALS; referrals++) {
      const step = await this.askZone(delegation, qname, type, walk);
      if (step.kind !== 'referral') return step;
      const cut = { zone: step.zone, ds: step.ds ?? [], signatures: step.dsSignatures ?? [], authority: step.authority, server: step.server ?? '?' };
      delegation = { zone: step.zone, servers: step.servers, expires: Date.now() + step.ttl * 1000, cut };
      if (step.ttl > 0) this.delegations.set(step.zone, delegation);
    }
    return { kind: 'fail', outcome: 'error', detail: `more than ${MAX_REFERRALS} referrals for ${fqdn(qname)}` };
  }

  private closestDelegation(qname: string): Delegation {
    const now = Date.now();
    for (const zone of ancestors(qname)) {
      const d = this.delegations.get(zone);
      if (d && d.expires > now) return d;
    }
    return this.root;
  }

  /** Asks the servers of one zone in turn until one gives a usable answer or referral. */
  private async askZone(delegation: Delegation, qname: string, type: QueryType, walk: Walk): Promise<Exclude<Step, { kind: 'lame' }> | Failure> {
    const failures: string[] = [];
    let timeouts = 0;
    let tried = 0;
    const servers = [...delegation.servers].sort((a, b) => Number(b.addresses !== null) - Number(a.addresses !== null));
    for (const server of servers) {
      if (walk.signal.aborted) throw abortError(walk.signal);
      const addresses = await this.addressesOf(server, delegation.zone, walk);
      if (typeof addresses === 'string') {
        failures.push(`${fqdn(server.name)}: ${addresses}`);
        walk.path.push(`${fqdn(server.name)}: ${addresses}`);
        continue;
      }
      for (const address of addresses) {
        tried++;
        const label = `${fqdn(server.name)} (${address})`;
        const result = await this.ask(address, qname, type, walk.signal);
        if (result.kind !== 'response') {
          if (result.kind === 'timeout') timeouts++;
          failures.push(`${label}: ${result.kind}, ${result.detail}`);
          walk.path.push(`${label}: ${result.kind}`);
          continue;
        }
        const step = classifyResponse(result.response, delegation.zone, qname, type);
        if (step.kind === 'lame') {
          failures.push(`${label}: ${step.why}`);
          walk.path.push(`${label}: ${step.why}, next server`);
          continue;
        }
        walk.path.push(`${label}: ${describeStep(step)}${result.tcp ? ' (over TCP)' : ''}`);
        return { ...step, server: server.name, asked: delegation.zone };
      }
    }
    const outcome = tried > 0 && timeouts === tried ? 'timeout' : 'servfail';
    return {
      kind: 'fail',
      outcome,
      detail: `no server of ${fqdn(delegation.zone)} answered for ${fqdn(qname)} ${type}: ${failures.join('; ') || 'no server'}`,
    };
  }

  /** The addresses of one NS, resolving a glueless name (bounded, cycle-safe); a string says why there is none. */
  private async addressesOf(server: NsEntry, zone: string, walk: Walk): Promise<string[] | string> {
    if (server.addresses) return server.addresses.length ? server.addresses : 'no address';
    if (isWithin(server.name, zone)) return 'in-zone nameserver without glue';
    if (walk.depth >= MAX_GLUELESS_DEPTH) return 'glueless chain too deep';
    const key = `${server.name}|A`;
    if (walk.stack.has(key)) return 'glueless cycle';
    const cached = this.answers.get(`${key}|true`);
    let lookup: Lookup;
    if (cached && cached.expires > Date.now()) lookup = cached.lookup;
    else {
      // Not shared with other in-flight lookups: waiting on each other could deadlock on a glueless cycle.
      const inner: Walk = { signal: walk.signal, path: [], stack: new Set([...walk.stack, key]), depth: walk.depth + 1 };
      lookup = await this.resolveChain(server.name, 'A', true, inner);
      // Not validated: an address to ask needs no DNSSEC, but it must not answer a later lookup() from the cache.
      if (!this.dnssec) this.remember(lookup, true);
      walk.path.push(`resolved glueless ${fqdn(server.name)}: ${lookup.outcome}`);
    }
    const addresses = lookup.records.map(addressData).filter((a): a is string => a !== null);
    if (lookup.outcome === 'ok' && addresses.length) server.addresses = addresses;
    return addresses.length ? addresses : `glueless name did not resolve (${lookup.detail ?? lookup.outcome})`;
  }
}

/**
 * What a response from a server of `zone` means for (qname, type). Only records inside the zone's bailiwick
 * are believed; everything else, and any failure rcode, makes the server lame for this question.
 */
export function classifyResponse(response: DnsResponse, zone: string, qname: string, type: QueryType): Step {
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') return { kind: 'lame', why: response.rcode };
  const answers = response.answers.filter((r) => isWithin(r.name, zone));
  // Follow a CNAME chain inside the answer section, as far as it stays in the bailiwick.
  const chain: string[] = [];
  const links: SignedLink[] = [];
  let current = qname;
  for (let i = 0; i <= MAX_CNAMES; i++) {
    if (type !== 'CNAME' && answers.some((r) => r.name === current && r.type === type)) break;
    const alias = type === 'CNAME' ? undefined : answers.find((r) => r.name === current && r.type === 'CNAME');
    if (!alias) break;
    const target = nameData(alias);
    if (!target) return { kind: 'lame', why: 'malformed CNAME' };
    links.push({ name: current, record: alias, signatures: signaturesOver(answers, alias.name, 'CNAME') });
    if (target === qname || chain.includes(target)) {
      chain.push(target);
      break; // the caller names the loop
    }
    chain.push(target);
    current = target;
  }
  const soaZone = (): string => {
    const soa = response.authorities.find((r) => r.type === 'SOA' && isWithin(r.name, zone) && isWithin(current, r.name));
    return soa ? soa.name : zone;
  };
  const negativeTtl = (): number => {
    const soa = response.authorities.find((r) => r.type === 'SOA' && isWithin(r.name, zone));
    const minimum = (soa?.data as { minimum?: unknown } | undefined)?.minimum;
    return Math.min(soa?.ttl ?? 0, typeof minimum === 'number' ? minimum : 0, 3_600);
  };
  const records = answers.filter((r) => r.name === current && r.type === type);
  if (records.length) {
    if (!response.aa) return { kind: 'lame', why: 'answer without the AA flag' };
    const wellFormed = records.filter((r) => (type === 'A' || type === 'AAAA' ? addressData(r) !== null : true));
    if (wellFormed.length === 0) return { kind: 'lame', why: `malformed ${type} data` };
    const apex = type === 'SOA' ? current : soaZone();
    const signatures = signaturesOver(answers, records[0]!.name, type);
    return { kind: 'answer', records: wellFormed, chain, zone: apex, signatures, links, authority: response.authorities };
  }
  if (response.rcode === 'NXDOMAIN') {
    if (!response.aa) return { kind: 'lame', why: 'NXDOMAIN without the AA flag' };
    return { kind: 'nxdomain', chain, zone: soaZone(), ttl: negativeTtl(), links, authority: response.authorities };
  }
  if (chain.length) {
    if (!response.aa) return { kind: 'lame', why: 'CNAME without the AA flag' };
    return { kind: 'cname', chain, target: chain.at(-1)!, zone: soaZone(), links, authority: response.authorities };
  }
  // A referral: NS records for a zone strictly below the one asked and at or above the name. Some servers set AA
  // on referrals; a response with an SOA in it is a negative answer, not a referral.
  const cut = response.authorities.find((r) => r.type === 'NS' && r.name !== zone && isWithin(r.name, zone) && isWithin(current, r.name));
  if (!response.aa || (cut && !response.authorities.some((r) => r.type === 'SOA'))) {
    if (!cut) {
      const upward = response.authorities.some((r) => r.type === 'NS');
      return { kind: 'lame', why: upward ? 'lame delegation (referral up or sideways)' : 'no answer and no referral' };
    }
    const nsRecords = response.authorities.filter((r) => r.type === 'NS' && r.name === cut.name);
    const servers: NsEntry[] = [];
    for (const r of nsRecords) {
      const name = nameData(r);
      if (!name || servers.some((s) => s.name === name)) continue;
      // Glue is believed only inside the bailiwick of the server that gave it.
      const glue = isWithin(name, zone)
        ? response.additionals
            .filter((g) => g.name === name && (g.type === 'A' || g.type === 'AAAA'))
            .map(addressData)
            .filter((a): a is string => a !== null)
        : [];
      servers.push({ name, addresses: glue.length ? orderAddresses(glue) : null });
    }
    if (servers.length === 0) return { kind: 'lame', why: 'referral without nameserver names' };
    const ds = response.authorities.filter((r) => r.type === 'DS' && r.name === cut.name);
    const dsSignatures = signaturesOver(response.authorities, cut.name, 'DS');
    return { kind: 'referral', zone: cut.name, servers, ttl: ttlOf(nsRecords), ds, dsSignatures, authority: response.authorities };
  }
  return { kind: 'nodata', chain, zone: soaZone(), ttl: negativeTtl(), links, authority: response.authorities };
}

function describeStep(step: Exclude<Step, { kind: 'lame' }>): string {
  switch (step.kind) {
    case 'referral':
      return `referral to ${fqdn(step.zone)} (${step.servers.map((s) => fqdn(s.name)).join(', ')})`;
    case 'answer':
      return `answer${step.chain.length ? ` via CNAME ${step.chain.map(fqdn).join(' → ')}` : ''}`;
    case 'cname':
      return `CNAME to ${fqdn(step.target)}`;
    case 'nxdomain':
      return 'NXDOMAIN';
    case 'nodata':
      return 'no data (NODATA)';
  }
}

/** Secure when both lookups are: the address RRsets found and the proved denials of the others. */
function addressSecurity(lookups: Lookup[]): 'secure' | 'insecure' {
  return lookups.every((l) => l.dnssec?.status === 'secure') ? 'secure' : 'insecure';
}

/**
 * The CNAMEs of a step's chain as RRsets to validate, each in the zone of the server that gave it (its signer must be
 * that zone: a CNAME into another zone is validated there when the chain is followed).
 */
function cnameEvidence(step: Exclude<Step, { kind: 'referral' | 'lame' }>): SignedAnswer[] {
  const zone = step.asked ?? step.zone;
  return (step.links ?? []).map((link) => ({
    name: link.record.name,
    type: 'CNAME',
    records: [link.record],
    signatures: link.signatures,
    zone,
    server: step.server ?? '?',
    authority: step.authority,
  }));
}

/**
 * Drops a remembered question's promise when it rejects (its asker's signal aborted, e.g. a per-name deadline): the
 * next asker, with its own signal, asks again instead of inheriting another's abort for the rest of the run.
 */
/** A failure no server gave as an answer (a timeout under load) is this asker's: the next one asks again. */
function forgetIfTransient<K, V extends object>(memory: Map<K, Promise<V>>, key: K, promise: Promise<V>): void {
  void promise.then(
    (value) => {
      if ('transient' in value && value.transient === true && memory.get(key) === promise) memory.delete(key);
    },
    () => undefined,
  );
}

function forgetIfRejected<K, V>(memory: Map<K, Promise<V>>, key: K, promise: Promise<V>): void {
  promise.catch(() => {
    if (memory.get(key) === promise) memory.delete(key);
  });
}

/** `result`, or this caller's abort if it comes first: a question shared with another caller ends with either's signal. */
function untilAborted<T>(result: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** IPv4 first: many hosts have no IPv6 route, and a v4 address answers as well. */
function orderAddresses(addresses: string[]): string[] {
  return [...addresses.filter((a) => isIP(a) === 4), ...addresses.filter((a) => isIP(a) === 6)];
}

const privateRanges = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  privateRanges.addSubnet(net, prefix, 'ipv6');

/** Private, loopback, link-local, CGNAT or unspecified (IPv4-mapped IPv6 is judged as its IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return privateRanges.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return false;
  return privateRanges.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
