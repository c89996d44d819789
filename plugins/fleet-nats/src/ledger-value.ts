import type { RateLimitEntry } from '@certsmith/core';

/** A rate limit as the fleet keeps it: the host's own entry, with the host that met it. */
export type FleetRateLimit = RateLimitEntry & { host: string };

/** The value under one issuer's key of the ledger bucket. */
export interface LedgerValue {
  version: 1;
  entries: FleetRateLimit[];
}

/** The entries of a ledger value, or null when the value is not one (edited, forged, another program's). */
export function ledgerEntriesOf(text: string): FleetRateLimit[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const entries = (value as Partial<LedgerValue> | null)?.entries;
  if (!Array.isArray(entries) || !entries.every(isFleetRateLimit)) return null;
  return entries;
}

function isFleetRateLimit(value: unknown): value is FleetRateLimit {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  const strings = ['issuer', 'until', 'recordedAt', 'code', 'kind', 'detail', 'host'].every((f) => typeof e[f] === 'string');
  const optional = ['name', 'account'].every((f) => e[f] === undefined || typeof e[f] === 'string');
  return strings && optional && (e.scope === 'name' || e.scope === 'account') && !Number.isNaN(Date.parse(e.until as string));
}

export function isLive(entry: RateLimitEntry, now: Date): boolean {
  return Date.parse(entry.until) > now.getTime();
}

/** The ledger after this host's new entries: what ran out goes, and a host's newer entry replaces its older one. */
export function mergedLedger(current: FleetRateLimit[], added: FleetRateLimit[], now: Date): LedgerValue {
  const identity = (e: FleetRateLimit) => [e.host, e.issuer, e.scope, e.name ?? '', e.account ?? ''].join('\u0000');
  const byIdentity = new Map<string, FleetRateLimit>();
  for (const entry of [...current, ...added]) if (isLive(entry, now)) byIdentity.set(identity(entry), entry);
  return { version: 1, entries: [...byIdentity.values()] };
}

/** The core's entry, without the fleet's host. */
export function withoutHost({ host: _host, ...entry }: FleetRateLimit): RateLimitEntry {
  return entry;
}
