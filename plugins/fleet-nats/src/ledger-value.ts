import type { RateLimitEntry } from '@certsmith/core';

/** A rate limit as the fleet keeps it: the host's own entry, with the host that met it. */
export type FleetRateLimit = RateLimitEntry & { host: string };

/** The value under one issuer's key of the ledger bucket. */
export interface LedgerValue {
  version: 1;
  /** This version's entries, and any it does not understand (another version's), kept as they were. */
  entries: unknown[];
}

/** A ledger value as this version reads it: the entries it can use, the others that look like entries, and the rest. */
export interface ReadLedger {
  entries: FleetRateLimit[];
  /** Entries it cannot use that have an `until` (a scope a newer version writes): kept by a merge until then. */
  foreign: unknown[];
  /** How many are no entry at all (not an object, no date in `until`): dropped by the next merge. */
  malformed: number;
}

/**
 * The entries of a ledger value, each judged on its own; null when the value is not a ledger at all (not JSON, no
 * list of entries: edited, forged, another program's).
 */
export function ledgerOf(text: string): ReadLedger | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const entries = (value as Partial<LedgerValue> | null)?.entries;
  if (!Array.isArray(entries)) return null;
  const unusable = entries.filter((e) => !isFleetRateLimit(e));
  const foreign = unusable.filter((e) => !Number.isNaN(untilOf(e)));
  return { entries: entries.filter(isFleetRateLimit), foreign, malformed: unusable.length - foreign.length };
}

function isFleetRateLimit(value: unknown): value is FleetRateLimit {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  const strings = ['issuer', 'until', 'recordedAt', 'code', 'kind', 'detail', 'host'].every((f) => typeof e[f] === 'string');
  const optional = ['name', 'account'].every((f) => e[f] === undefined || typeof e[f] === 'string');
  return strings && optional && (e.scope === 'name' || e.scope === 'account') && !Number.isNaN(Date.parse(e.until as string));
}

/** An entry's `until` in ms, NaN when it is not an object with a date there. */
function untilOf(entry: unknown): number {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return Number.NaN;
  const until = (entry as Record<string, unknown>).until;
  return typeof until === 'string' ? Date.parse(until) : Number.NaN;
}

export function isLive(entry: RateLimitEntry, now: Date): boolean {
  return Date.parse(entry.until) > now.getTime();
}

/**
 * The ledger after this host's new entries: what ran out goes, and a host's newer entry replaces its older one. An
 * entry this version cannot use stays as it was while its `until` is to come: another host's limit is never lost to a
 * host that does not understand it. One with no date in `until` could never run out: it goes, or no host could ever
 * clear it.
 */
export function mergedLedger(current: ReadLedger, added: FleetRateLimit[], now: Date): LedgerValue {
  const identity = (e: FleetRateLimit) => [e.host, e.issuer, e.scope, e.name ?? '', e.account ?? ''].join('\u0000');
  const byIdentity = new Map<string, FleetRateLimit>();
  for (const entry of [...current.entries, ...added]) if (isLive(entry, now)) byIdentity.set(identity(entry), entry);
  return { version: 1, entries: [...byIdentity.values(), ...current.foreign.filter((e) => untilOf(e) > now.getTime())] };
}

/** The core's entry, without the fleet's host. */
export function withoutHost({ host: _host, ...entry }: FleetRateLimit): RateLimitEntry {
  return entry;
}
