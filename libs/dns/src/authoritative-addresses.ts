import { isIP } from 'node:net';
import type { IterativeResolver, NameServer } from './iterative-resolver.js';
import { addressData, nameData, normalizeName, type QueryType } from './wire.js';

/** What one authoritative server answers for a name's A and AAAA. */
export type ServerAddressAnswer =
  | {
      server: NameServer;
      answered: true;
      /** A and AAAA data owned by the name, IPv6 first, each family sorted: equal lists mean equal answers. */
      addresses: string[];
      /** The CNAME target when the name is an alias (its target's addresses are another zone's to give). */
      cname?: string;
    }
  | { server: NameServer; answered: false; detail: string };

/** Every authoritative server of the zone that holds a name, with what each answers for the name's addresses. */
export interface AuthoritativeAddresses {
  name: string;
  zone: string;
  answers: ServerAddressAnswer[];
  /** How the zone and its servers were found (for the dns-resolved events). */
  path: string[];
  /** The addresses of each server's name, as nameServers() found them. */
  byName: Map<string, string[]>;
}

/** The resolver's public methods this module uses. */
export type AuthoritativeResolver = Pick<IterativeResolver, 'zoneOf' | 'nameServers' | 'ask'>;

/**
 * Asks every authoritative server of the zone that holds `name` for its A and AAAA, one server at a time per family,
 * no recursion and no cache: a CA resolves from several perspectives and may reach any of them, so one server's
 * stale copy (a secondary that missed a transfer) shows here when a single resolution would hide it.
 * Throws what zoneOf and nameServers throw (DNS_ZONE_NOT_FOUND, DNS_NO_NAMESERVERS) and on abort.
 */
export async function authoritativeAddresses(resolver: AuthoritativeResolver, name: string, signal: AbortSignal): Promise<AuthoritativeAddresses> {
  const qname = normalizeName(name);
  const { zone, path } = await resolver.zoneOf(qname, signal);
  const found = await resolver.nameServers(zone, signal);
  const answers = await Promise.all(found.servers.map((server) => askServer(resolver, server, qname, signal)));
  return { name: qname, zone, answers, path: [...path, ...found.path], byName: found.byName };
}

async function askServer(resolver: AuthoritativeResolver, server: NameServer, qname: string, signal: AbortSignal): Promise<ServerAddressAnswer> {
  const [six, four] = await Promise.all([askFamily(resolver, server, qname, 'AAAA', signal), askFamily(resolver, server, qname, 'A', signal)]);
  if ('detail' in six) return { server, answered: false, detail: six.detail };
  if ('detail' in four) return { server, answered: false, detail: four.detail };
  const cname = six.cname ?? four.cname;
  return { server, answered: true, addresses: [...six.addresses, ...four.addresses], ...(cname ? { cname } : {}) };
}

/** One family from one server: its addresses for the name, or why the server gave no authoritative answer. */
async function askFamily(
  resolver: AuthoritativeResolver,
  server: NameServer,
  qname: string,
  type: QueryType,
  signal: AbortSignal,
): Promise<{ addresses: string[]; cname?: string } | { detail: string }> {
  const result = await resolver.ask(server.address, qname, type, signal);
  if (result.kind !== 'response') return { detail: `${result.kind} (${result.detail})` };
  const { response } = result;
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') return { detail: response.rcode };
  if (!response.aa) return { detail: 'not authoritative for the zone' };
  const owned = response.answers.filter((r) => normalizeName(r.name) === qname);
  const addresses = owned
    .filter((r) => r.type === type)
    .map(addressData)
    .filter((a): a is string => a !== null && isIP(a) !== 0)
    .sort();
  const alias = owned.find((r) => r.type === 'CNAME');
  const cname = alias ? nameData(alias) : null;
  return cname ? { addresses, cname } : { addresses };
}
