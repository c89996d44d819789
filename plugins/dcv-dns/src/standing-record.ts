import type { StandingRecord } from '@certsmith/core';

/** The owner label of a standing validation record (ACME dns-persist-01, docs/domain-facts.md). */
export const PERSIST_LABEL = '_validation-persist';

/** Where a name's standing record lives: a wildcard's is its base name's. */
export function persistOwner(name: string): string {
  return `${PERSIST_LABEL}.${name.replace(/^\*\./, '')}`;
}

/** The record's value: `issuer; accounturi=...`, with `policy=wildcard` when it must cover a wildcard; no persistUntil. */
export function persistValue(record: { issuerDomainName: string; accountUri: string; wildcard: boolean }): string {
  return `${record.issuerDomainName}; accounturi=${record.accountUri}${record.wildcard ? '; policy=wildcard' : ''}`;
}

export interface ParsedPersist {
  issuer: string;
  accountUri?: string;
  wildcard: boolean;
  /** Seconds since the epoch, when given. */
  persistUntil?: number;
}

/**
 * An issue-value (RFC 8659 section 4.2): the issuer, then `key=value` parameters; unknown keys ignored; null without
 * an issuer, without the accounturi the draft requires, or with a persistUntil that is not a base-10 integer (a CA
 * rejects such a record as malformed: it binds nobody, so it neither stands for this account nor holds the name for another).
 */
export function parsePersistValue(text: string): ParsedPersist | null {
  const [issuer, ...parameters] = text.split(';').map((part) => part.trim());
  if (!issuer || !/^[A-Za-z0-9.-]+$/.test(issuer)) return null;
  const parsed: ParsedPersist = { issuer: issuer.toLowerCase().replace(/\.$/, ''), wildcard: false };
  for (const parameter of parameters) {
    const at = parameter.indexOf('=');
    if (at <= 0) continue;
    const key = parameter.slice(0, at).trim().toLowerCase();
    const value = parameter.slice(at + 1).trim();
    if (key === 'accounturi') parsed.accountUri = value;
    else if (key === 'policy') parsed.wildcard = value.toLowerCase() === 'wildcard';
    else if (key === 'persistuntil') {
      if (!/^\d+$/.test(value)) return null;
      parsed.persistUntil = Number(value);
    }
  }
  return parsed.accountUri ? parsed : null;
}

/** What the TXT values at a name's standing owner say for one CA and account. */
export type Standing =
  | { state: 'bound' }
  | { state: 'missing' }
  | { state: 'other-ca'; issuers: string[] }
  | { state: 'other-account'; accounts: string[] }
  | { state: 'expired' }
  | { state: 'not-wildcard' };

/**
 * Judges the values as the CA will: a value naming one of its issuer domain names, binding this account, not past
 * persistUntil, and with policy=wildcard for a wildcard. A record of the CA bound only to other accounts (or to any,
 * while this issuer has no account yet) is another account's claim on the name.
 */
export function judgeStanding(values: string[], want: StandingRecord & { wildcard: boolean }, now: Date): Standing {
  const parsed = values.map(parsePersistValue).filter((p): p is ParsedPersist => p !== null);
  const issuers = new Set(want.issuerDomainNames.map((d) => d.toLowerCase().replace(/\.$/, '')));
  const ours = parsed.filter((p) => issuers.has(p.issuer));
  if (ours.length === 0) return parsed.length ? { state: 'other-ca', issuers: [...new Set(parsed.map((p) => p.issuer))] } : { state: 'missing' };
  const bound = ours.filter((p) => want.accountUri !== null && p.accountUri === want.accountUri);
  if (bound.length === 0) return { state: 'other-account', accounts: [...new Set(ours.map((p) => p.accountUri!))] };
  const live = bound.filter((p) => p.persistUntil === undefined || p.persistUntil * 1000 > now.getTime());
  if (live.length === 0) return { state: 'expired' };
  if (want.wildcard && !live.some((p) => p.wildcard)) return { state: 'not-wildcard' };
  return { state: 'bound' };
}
