import { isIP } from 'node:net';
import { CertsmithError, UsageError } from '@certsmith/core';
import { addressData, fqdn, nameData, sendUpdate, type IterativeResolver, type TsigKey } from '@certsmith/dns';
import type { ChallengeRecord, ZonePublisher } from './publishers.js';

export interface Rfc2136Options {
  key: TsigKey;
  /** Update server as address or address:port; default: the zone's primary (SOA MNAME), found iteratively. */
  server?: string;
  port: number;
  timeoutMs: number;
}

/** Publishes by RFC 2136 dynamic update signed with TSIG, as nsupdate -k does. */
export class Rfc2136Publisher implements ZonePublisher {
  private readonly fixed: { address: string; port: number } | null;
  private readonly primaries = new Map<string, Promise<{ address: string; port: number }>>();

  constructor(
    private readonly resolver: IterativeResolver,
    private readonly options: Rfc2136Options,
  ) {
    this.fixed = options.server ? parseServer(options.server, options.port) : null;
  }

  describe(zone: string): string {
    return `RFC 2136 update of zone ${fqdn(zone)}${this.fixed ? ` on ${this.fixed.address}:${this.fixed.port}` : ' on its primary'} with ${this.options.key}`;
  }

  /** Where and how an update of the zone is sent: its primary (or the fixed server), signed with the key. */
  private async updateTo(zone: string, signal: AbortSignal) {
    const server = await this.serverFor(zone, signal);
    return {
      zone,
      server: server.address,
      port: server.port,
      key: this.options.key,
      timeoutMs: this.options.timeoutMs,
      addressPolicy: this.resolver.transport.addressPolicy,
    };
  }

  async add(zone: string, record: ChallengeRecord, signal: AbortSignal): Promise<void> {
    await sendUpdate(await this.updateTo(zone, signal), [{ op: 'add', name: record.owner, type: record.type, ttl: record.ttl, data: record.value }], signal);
  }

  async remove(zone: string, record: ChallengeRecord, signal: AbortSignal): Promise<void> {
    await sendUpdate(await this.updateTo(zone, signal), [{ op: 'delete', name: record.owner, type: record.type, data: record.value }], signal);
  }

  /** The configured server, or the primary named in the zone's SOA record (RFC 2136 section 4). */
  private serverFor(zone: string, signal: AbortSignal): Promise<{ address: string; port: number }> {
    if (this.fixed) return Promise.resolve(this.fixed);
    let found = this.primaries.get(zone);
    if (!found) {
      found = (async () => {
        const soa = await this.resolver.lookup(zone, 'SOA', signal, { followCnames: false });
        const mname = soa.records.map((r) => (r.type === 'SOA' ? nameData({ ...r, data: (r.data as { mname?: unknown }).mname }) : null)).find(Boolean);
        if (!mname)
          throw new CertsmithError(
            'DNS_NO_PRIMARY',
            `cannot find the primary server of zone ${fqdn(zone)} (${soa.detail ?? soa.outcome}); set "server" in the dcv-dns options`,
          );
        const a = await this.resolver.lookup(mname, 'A', signal);
        const address = a.records.map(addressData).find((x): x is string => x !== null);
        if (!address)
          throw new CertsmithError(
            'DNS_NO_PRIMARY',
            `the primary ${fqdn(mname)} of zone ${fqdn(zone)} has no address (${a.detail ?? a.outcome}); set "server" in the dcv-dns options`,
          );
        return { address, port: this.options.port };
      })();
      found.catch(() => this.primaries.delete(zone));
      this.primaries.set(zone, found);
    }
    return found;
  }
}

function parseServer(value: string, defaultPort: number): { address: string; port: number } {
  if (isIP(value)) return { address: value, port: defaultPort };
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value);
  if (match && isIP(match[1]!) && Number(match[2]) > 0 && Number(match[2]) < 65536) return { address: match[1]!, port: Number(match[2]) };
  throw new UsageError('PLUGIN_OPTIONS_INVALID', `dcv-dns option "server": "${value}" is not an IP address or address:port`);
}
