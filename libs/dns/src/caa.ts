// The CAA climb of RFC 8659 section 3 through the iterative resolver: the name, then each parent up to and including
// the TLD, until a non-empty CAA RRset is found. Each level is an ordinary query, so a CNAME there is followed as DNS
// follows it (RFC 8659 dropped RFC 6844's climb from the alias target); a loop or a failure ends the climb.
import { CAA_MAX_RECORDS, caaRecordProblem, type CaaLookup, type CaaRecord } from '@certsmith/core';
import type { Lookup } from './iterative-resolver.js';
import { ancestors, fqdn, normalizeName, type DnsRecord, type QueryType } from './wire.js';

/** What the climb needs of a resolver: one lookup per level (cached and de-duplicated by the IterativeResolver). */
export interface CaaLevelResolver {
  lookup(name: string, type: QueryType, signal: AbortSignal): Promise<Lookup>;
}

/** A CAA record as dns-packet decodes it; anything that breaks the syntax is kept and marked, never thrown. */
export function caaRecordOf(record: DnsRecord): CaaRecord {
  const data = record.data as { flags?: unknown; tag?: unknown; value?: unknown } | undefined;
  if (!data || typeof data !== 'object') return { flags: 0, tag: '', value: '', malformed: 'undecodable record data' };
  const out: CaaRecord = {
    flags: typeof data.flags === 'number' ? data.flags : 0,
    tag: typeof data.tag === 'string' ? data.tag : '',
    value: typeof data.value === 'string' ? data.value : '',
  };
  const problem = caaRecordProblem(out);
  return problem ? { ...out, malformed: problem } : out;
}

/** The relevant CAA RRset of `name` (for a wildcard, of its base domain). Throws only when aborted. */
export async function lookupCaa(resolver: CaaLevelResolver, name: string, signal: AbortSignal): Promise<CaaLookup> {
  const base = normalizeName(name.replace(/^\*\./, ''));
  const path: string[] = [];
  const result = (outcome: CaaLookup['outcome'], extra: Partial<CaaLookup> = {}): CaaLookup => ({
    name: base,
    outcome,
    records: [],
    level: null,
    owner: null,
    cnames: [],
    path,
    ...extra,
  });
  // The root is not part of the climb (RFC 8659: "up to but not including the DNS root").
  for (const level of ancestors(base).filter((l) => l !== '')) {
    const lookup = await resolver.lookup(level, 'CAA', signal);
    const found = lookup.outcome === 'ok' ? lookup.records.filter((r) => r.type === 'CAA') : [];
    if (found.length) {
      const owner = found[0]!.name;
      const via = lookup.cnames.length ? ` via CNAME ${lookup.cnames.map(fqdn).join(' → ')}` : '';
      path.push(`${fqdn(level)}: ${found.length} CAA record(s)${via}`);
      const kept = found.slice(0, CAA_MAX_RECORDS).map(caaRecordOf);
      return result('found', {
        records: kept,
        level,
        owner,
        cnames: lookup.cnames,
        total: found.length > kept.length ? found.length : undefined,
      });
    }
    if (lookup.outcome === 'ok' || lookup.outcome === 'nodata' || lookup.outcome === 'nxdomain') {
      path.push(`${fqdn(level)}: ${lookup.outcome === 'nxdomain' ? 'NXDOMAIN' : 'no CAA record'}`);
      continue;
    }
    path.push(`${fqdn(level)}: ${lookup.outcome}`);
    const outcome = lookup.outcome === 'error' && /^CNAME loop/.test(lookup.detail ?? '') ? 'loop' : lookup.outcome;
    return result(outcome, { level, detail: `CAA at ${fqdn(level)}: ${lookup.detail ?? lookup.outcome}` });
  }
  return result('none');
}
