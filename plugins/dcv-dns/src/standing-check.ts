import type { NameVerdict, StandingRecord } from '@certsmith/core';
import { fqdn, normalizeName, txtValue, type IterativeResolver, type NameServer } from '@certsmith/dns';
import { judgeStanding, persistOwner, type Standing } from './standing-record.js';

export type Want = StandingRecord & { wildcard: boolean };

/** The TXT values at `owner` as one server serves them authoritatively (none for NXDOMAIN), else what it said instead. */
export async function txtValuesOn(resolver: IterativeResolver, server: NameServer, owner: string, signal: AbortSignal): Promise<string[] | string> {
  const result = await resolver.ask(server.address, owner, 'TXT', signal);
  if (result.kind !== 'response') return `${result.kind} (${result.detail})`;
  const { response } = result;
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') return response.rcode;
  if (!response.aa) return 'not authoritative for the zone';
  const name = normalizeName(owner);
  return response.answers.filter((r) => r.name === name && r.type === 'TXT').map((r) => txtValue(r) ?? '');
}

/**
 * A name's standing record on every authoritative server of its zone, judged for one CA and account: bound only when
 * every server serves a bound record (the CA may ask any of them); else the first server's other finding, another
 * account's claim first. A server that does not answer is an error.
 */
export async function standingOn(
  resolver: IterativeResolver,
  servers: NameServer[],
  owner: string,
  want: Want,
  signal: AbortSignal,
  now: Date,
): Promise<{ standing: Standing; server?: NameServer } | { error: string }> {
  const seen = await Promise.all(servers.map(async (server) => ({ server, values: await txtValuesOn(resolver, server, owner, signal) })));
  const silent = seen.filter((s): s is { server: NameServer; values: string } => typeof s.values === 'string');
  if (silent.length) return { error: silent.map((s) => `${fqdn(s.server.name)} (${s.server.address}): ${s.values}`).join('; ') };
  const judged = seen.map((s) => ({ server: s.server, standing: judgeStanding(s.values as string[], want, now) }));
  const unbound = judged.filter((j) => j.standing.state !== 'bound');
  return unbound.find((j) => j.standing.state === 'other-account') ?? unbound[0] ?? { standing: { state: 'bound' } };
}

/** The pre-check's verdict on a name's standing record: only another account's claim fails it; what a publish mends is a warning. */
export function standingVerdict(name: string, want: Want, found: { standing: Standing; server?: NameServer } | { error: string }): NameVerdict {
  const owner = fqdn(normalizeName(persistOwner(name)));
  const ca = want.issuerDomainNames.join(' or ');
  if ('error' in found) return { name, ok: false, code: 'DNS_PERSIST_UNANSWERED', reason: `TXT ${owner} cannot be read from every nameserver: ${found.error}` };
  const at = found.server ? ` on ${fqdn(found.server.name)} (${found.server.address})` : '';
  const when = want.accountUri ? 'with the next order' : 'with the first order, once the account is registered';
  const warn = (code: string, message: string): NameVerdict => ({ name, ok: true, warnings: [{ code, message }] });
  const { standing } = found;
  switch (standing.state) {
    case 'bound':
      return { name, ok: true, reason: `the standing record ${owner} binds ${want.accountUri} for ${ca}` };
    case 'other-account':
      return {
        name,
        ok: false,
        code: 'DNS_PERSIST_OTHER_ACCOUNT',
        reason: `the standing record ${owner}${at} binds ${ca} to another account (${standing.accounts.join(', ')}), not ${want.accountUri ?? 'this issuer (no account registered yet)'}: change or remove it to let this issuer's account order for ${name}`,
      };
    case 'missing':
      return warn('DNS_PERSIST_MISSING', `no standing record ${owner} for ${ca}${at} yet: it is published ${when}`);
    case 'other-ca':
      return warn(
        'DNS_PERSIST_OTHER_CA',
        `the standing record ${owner}${at} names ${standing.issuers.join(', ')}, not ${ca}: a record for ${ca} is published beside it ${when}`,
      );
    case 'expired':
      return warn('DNS_PERSIST_EXPIRED', `the standing record ${owner}${at} is past its persistUntil: a new one is published ${when}`);
    case 'not-wildcard':
      return warn('DNS_PERSIST_NOT_WILDCARD', `the standing record ${owner}${at} lacks policy=wildcard for ${name}: one with it is published ${when}`);
  }
}
