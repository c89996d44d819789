import { randomBytes } from 'node:crypto';
import {
  CertsmithError,
  describeError,
  type Bus,
  type Challenge,
  type DcvCheckOptions,
  type DcvMethod,
  type NameVerdict,
  type Published,
  type Target,
} from '@certsmith/core';
import { fqdn, isWithin, nameData, normalizeName, txtValue, type IterativeResolver, type NameServer } from '@certsmith/dns';
import type { ChallengeRecord, ZonePublisher } from './publishers.js';
import { standingOn, standingVerdict, txtValuesOn, type Want } from './standing-check.js';
import { judgeStanding, persistOwner, persistValue } from './standing-record.js';

export interface DnsDcvOptions {
  /** Zones this server may publish in; default: the zone that holds the name, found from the root. */
  zones?: string[];
  ttl: number;
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

interface Handle {
  target: string;
  zone: string;
  record: ChallengeRecord;
  /** How the zone was found from the root, for the dns-resolved events. */
  zonePath: string[];
  /** A standing record (dns-persist): never removed; `kept` when one already stood and nothing was added. */
  standing?: { want: Want; kept: boolean };
}

/** cPanel's pre-check record, one per zone (docs/domain-facts.md#cpanels-local-pre-check): a subdomain passes through its zone. */
export const PROBE_LABEL = '_cpanel-dcv-test-record';

/**
 * DNS DCV for DNS-only servers: publishes the TXT record a challenge needs in the zone
 * that holds the name, then waits until every authoritative server of that zone serves it.
 */
export class DnsTxtDcv implements DcvMethod {
  readonly id = 'dns-txt';

  constructor(
    private readonly resolver: IterativeResolver,
    private readonly publisher: ZonePublisher,
    private readonly bus: Bus,
    private readonly options: DnsDcvOptions,
  ) {}

  readonly answers = ['probe', 'dns-txt', 'dns-persist'] as const;

  async publish(challenge: Challenge, target: Target, signal: AbortSignal): Promise<Published> {
    const name = normalizeName(challenge.name).replace(/^\*\./, '');
    let found: { zone: string; path: string[] };
    let record: ChallengeRecord;
    const marker = randomBytes(6).toString('hex');
    const ttl = this.options.ttl;
    switch (challenge.kind) {
      case 'probe':
        found = await this.zoneFor(name, signal);
        record = { owner: `${PROBE_LABEL}.${found.zone}`, type: 'TXT', value: challenge.content, ttl, marker };
        break;
      case 'dns-txt':
        record = { owner: normalizeName(challenge.owner), type: 'TXT', value: challenge.value, ttl, marker };
        found = await this.zoneFor(record.owner, signal);
        break;
      case 'dns-persist':
        return this.publishStanding(challenge, target, signal);
      default:
        throw new CertsmithError('DCV_UNSUPPORTED', `${this.id} cannot publish a ${challenge.kind} challenge`);
    }
    // add() either completes or throws having undone its own work: nothing is left to clean up then.
    const { zone } = found;
    await this.publisher.add(zone, record, signal);
    const handle: Handle = { target: target.id, zone, record, zonePath: found.path };
    return { method: this.id, challenge, where: `${fqdn(record.owner)} ${record.type} (${this.publisher.describe(zone)})`, handle };
  }

  /**
   * A standing record is added only when no record of the CA already binds the account on every authoritative server;
   * a record of the CA bound to another account is that account's claim: refused, never overwritten.
   */
  private async publishStanding(challenge: Challenge & { kind: 'dns-persist' }, target: Target, signal: AbortSignal): Promise<Published> {
    const owner = normalizeName(challenge.owner);
    const want: Want = { issuerDomainNames: [challenge.issuerDomainName], accountUri: challenge.accountUri, wildcard: challenge.wildcard };
    const found = await this.zoneFor(owner, signal);
    const { servers } = await this.resolver.nameServers(found.zone, signal);
    const now = new Date();
    const standing = await standingOn(this.resolver, servers, owner, want, signal, now);
    const verdict = standingVerdict(challenge.name, want, standing);
    if (!verdict.ok) throw new CertsmithError(verdict.code ?? 'DNS_PERSIST_UNANSWERED', verdict.reason ?? 'the standing record cannot be read');
    const kept = 'standing' in standing && standing.standing.state === 'bound';
    const record: ChallengeRecord = { owner, type: 'TXT', value: persistValue(challenge), ttl: this.options.ttl, marker: randomBytes(6).toString('hex') };
    if (!kept) await this.publisher.add(found.zone, record, signal);
    const handle: Handle = { target: target.id, zone: found.zone, record, zonePath: found.path, standing: { want, kept } };
    const where = kept
      ? `${fqdn(owner)} TXT (standing, already in zone ${fqdn(found.zone)})`
      : `${fqdn(owner)} TXT (standing; ${this.publisher.describe(found.zone)})`;
    return { method: this.id, challenge, where, handle, ...(kept ? { kept } : {}) };
  }

  async check(published: Published, signal: AbortSignal): Promise<NameVerdict> {
    const { zone, record, zonePath, standing } = published.handle as Handle;
    const name = normalizeName(published.challenge.name).replace(/^\*\./, '');
    const via = published.challenge.kind === 'probe' && name !== zone ? zone : undefined;
    let servers: NameServer[];
    try {
      const found = await this.resolver.nameServers(zone, signal);
      servers = found.servers;
      const path = [...zonePath, ...found.path];
      for (const [ns, addresses] of found.byName) this.bus.emit('dns-resolved', { name: ns, addresses, path, chosen: addresses[0] ?? null });
    } catch (error) {
      const { code, message } = describeError(error);
      return { name, ok: false, code, reason: message };
    }
    // Every authoritative server must serve the record: the CA may ask any of them.
    const pending = new Map(servers.map((s) => [`${s.name}|${s.address}`, { server: s, last: 'not asked yet' }]));
    const deadline = Date.now() + this.options.pollTimeoutMs;
    for (;;) {
      await Promise.all(
        [...pending].map(async ([key, entry]) => {
          const seen = standing ? await this.standsOn(entry.server, record.owner, standing.want, signal) : await this.seenOn(entry.server, record, signal);
          if (seen === true) pending.delete(key);
          else entry.last = seen;
        }),
      );
      if (pending.size === 0) return { name, ok: true, via };
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      if (Date.now() + this.options.pollIntervalMs > deadline) break;
      await sleep(this.options.pollIntervalMs, signal);
    }
    const missing = [...pending.values()].map((p) => `${fqdn(p.server.name)} (${p.server.address}): ${p.last}`).join('; ');
    return {
      name,
      ok: false,
      code: 'DNS_DCV_NOT_SEEN',
      via,
      reason: `${record.type} ${fqdn(record.owner)} not served by every nameserver of zone ${fqdn(zone)} after ${this.options.pollTimeoutMs / 1000} s: ${missing}`,
    };
  }

  /**
   * For --dry-run, writing nothing: the zone that would hold the record is found from the root, and every one of its
   * authoritative servers must answer for it (SOA, authoritatively), as the CA will ask them.
   */
  async precheck(challengeName: string, _target: Target, signal: AbortSignal, options?: DcvCheckOptions): Promise<NameVerdict> {
    const zoneVerdict = await this.zoneAnswers(challengeName, signal);
    const want = options?.standing;
    if (!want || !zoneVerdict.ok || !zoneVerdict.servers) return withoutServers(zoneVerdict);
    const owner = persistOwner(challengeName);
    const found = await standingOn(this.resolver, zoneVerdict.servers, owner, { ...want, wildcard: challengeName.startsWith('*.') }, signal, new Date());
    const verdict = standingVerdict(challengeName, { ...want, wildcard: challengeName.startsWith('*.') }, found);
    return { ...verdict, via: zoneVerdict.via };
  }

  /** Every authoritative server of the name's zone answers for it (SOA, authoritatively); the servers, for more questions. */
  private async zoneAnswers(challengeName: string, signal: AbortSignal): Promise<NameVerdict & { servers?: NameServer[] }> {
    const name = normalizeName(challengeName).replace(/^\*\./, '');
    try {
      const { zone, path } = await this.zoneFor(name, signal);
      const found = await this.resolver.nameServers(zone, signal);
      for (const [ns, addresses] of found.byName)
        this.bus.emit('dns-resolved', { name: ns, addresses, path: [...path, ...found.path], chosen: addresses[0] ?? null });
      const silent: string[] = [];
      await Promise.all(
        found.servers.map(async (server) => {
          const result = await this.resolver.ask(server.address, zone, 'SOA', signal);
          const why =
            result.kind !== 'response'
              ? `${result.kind} (${result.detail})`
              : result.response.rcode !== 'NOERROR'
                ? result.response.rcode
                : !result.response.aa
                  ? 'not authoritative for the zone'
                  : null;
          if (why) silent.push(`${fqdn(server.name)} (${server.address}): ${why}`);
        }),
      );
      const via = name !== zone ? zone : undefined;
      if (silent.length === 0) return { name, ok: true, via, servers: found.servers };
      return {
        name,
        ok: false,
        code: 'DNS_DCV_ZONE_UNANSWERED',
        via,
        reason: `not every nameserver of zone ${fqdn(zone)} answers for it: ${silent.join('; ')}`,
      };
    } catch (error) {
      if (signal.aborted) throw error;
      const { code, message } = describeError(error);
      return { name, ok: false, code, reason: message };
    }
  }

  async cleanup(published: Published): Promise<void> {
    const { target, zone, record, standing } = published.handle as Handle;
    // A standing record stays for the next orders: the CA validates against it again.
    if (standing) return;
    try {
      await this.publisher.remove(zone, record, AbortSignal.timeout(30_000));
    } catch (error) {
      // The pipeline ignores a failed cleanup; a record left in a zone must still reach the administrator.
      const { code, message } = describeError(error);
      this.bus.emit('failed', {
        stage: 'dcv',
        target,
        name: published.challenge.name,
        code,
        severity: 'warning',
        message: `could not remove ${record.type} ${fqdn(record.owner)} from zone ${fqdn(zone)}: ${message}`,
        next: 'remove the record by hand',
      });
      throw error;
    }
  }

  /** true when the server serves a standing record that binds the account as the CA will judge it; else what it serves instead. */
  private async standsOn(server: NameServer, owner: string, want: Want, signal: AbortSignal): Promise<true | string> {
    const values = await txtValuesOn(this.resolver, server, owner, signal);
    if (typeof values === 'string') return values;
    const judged = judgeStanding(values, want, new Date());
    return judged.state === 'bound' ? true : values.length ? `${judged.state} (${values.join(' | ')})` : 'no TXT record yet';
  }

  /** true when the server answers authoritatively with the value; else what it said instead. */
  private async seenOn(server: NameServer, record: ChallengeRecord, signal: AbortSignal): Promise<true | string> {
    const result = await this.resolver.ask(server.address, record.owner, record.type, signal);
    if (result.kind !== 'response') return `${result.kind} (${result.detail})`;
    const { response } = result;
    if (response.rcode !== 'NOERROR') return response.rcode;
    if (!response.aa) return 'not authoritative for the zone';
    const owner = normalizeName(record.owner);
    const values = response.answers.filter((r) => r.name === owner && r.type === record.type).map((r) => (record.type === 'TXT' ? txtValue(r) : nameData(r)));
    const wanted = record.type === 'TXT' ? record.value : normalizeName(record.value);
    if (values.includes(wanted)) return true;
    return values.length ? `other ${record.type} value(s), not this one` : `no ${record.type} record yet`;
  }

  private async zoneFor(name: string, signal: AbortSignal): Promise<{ zone: string; path: string[] }> {
    if (this.options.zones?.length) {
      const zone = this.options.zones
        .map(normalizeName)
        .filter((z) => isWithin(name, z))
        .sort((a, b) => b.length - a.length)[0];
      if (zone === undefined)
        throw new CertsmithError('DNS_DCV_NO_ZONE', `${name} is in none of the zones dcv-dns may publish in (${this.options.zones.join(', ')})`);
      return { zone, path: [`zone ${fqdn(zone)} from the dcv-dns options`] };
    }
    return this.resolver.zoneOf(name, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A verdict as the DcvMethod contract has it (the servers were for this method's own further questions). */
function withoutServers(verdict: NameVerdict & { servers?: NameServer[] }): NameVerdict {
  const { servers: _servers, ...rest } = verdict;
  return rest;
}
