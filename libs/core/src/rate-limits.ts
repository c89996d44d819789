import { readFile } from 'node:fs/promises';
import { CertsmithError } from './errors.js';
import { comparableName } from './names.js';
import { writePrivateFileAtomic } from './atomic-file.js';

/**
 * What an issuer attaches to the error it throws when the CA said "slow down" (an ACME `rateLimited` problem, or
 * HTTP 429/503 with Retry-After). The core reads it through `rateLimitOf`, knowing no CA by name.
 */
export interface RateLimitNotice {
  /** 'names': these names may not be ordered for a while; 'account': nothing may be asked of this CA account. */
  scope: 'names' | 'account';
  /** The names the CA refused (scope 'names'); empty = the names of the order that was refused. */
  names: string[];
  /** When the CA said to come back; undefined when it did not say. */
  retryAfter?: Date;
  /** What kind of answer it was: 'rateLimited', 'HTTP 429', 'HTTP 503'. */
  kind: string;
  /** The CA's own words. */
  detail: string;
  /** The account (URL) or directory the limit applies to, for the record. */
  account?: string;
}

/** A CertsmithError that carries a RateLimitNotice. */
export class RateLimitedError extends CertsmithError {
  readonly rateLimit: RateLimitNotice;
  constructor(code: string, message: string, rateLimit: RateLimitNotice, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { ...options, outcome: 'transient' });
    this.name = 'RateLimitedError';
    this.rateLimit = rateLimit;
  }
}

/** The rate-limit notice an error carries (duck-typed, so a third-party issuer's own error class works too), or null. */
export function rateLimitOf(error: unknown): RateLimitNotice | null {
  const notice = (error as { rateLimit?: Partial<RateLimitNotice> } | null)?.rateLimit;
  if (!notice || typeof notice !== 'object' || (notice.scope !== 'names' && notice.scope !== 'account')) return null;
  const retryAfter = notice.retryAfter instanceof Date && !Number.isNaN(notice.retryAfter.getTime()) ? notice.retryAfter : undefined;
  return {
    scope: notice.scope,
    names: Array.isArray(notice.names) ? notice.names.filter((n): n is string => typeof n === 'string') : [],
    retryAfter,
    kind: typeof notice.kind === 'string' ? notice.kind : 'rate limit',
    detail: typeof notice.detail === 'string' ? notice.detail : '',
    account: typeof notice.account === 'string' ? notice.account : undefined,
  };
}

/**
 * Bounds on how long the run believes a CA's Retry-After: one that is already past (a skewed clock, an edited
 * file) still waits a minute, so the next run does not hammer the CA; one absurdly far (a year) is capped at a
 * week, beyond which a renewal window could be missed; with none, three hours (Let's Encrypt's limits refill
 * over hours, and a nightly run then tries again the next night).
 */
export const RATE_LIMIT_FLOOR_MS = 60_000;
export const RATE_LIMIT_CAP_MS = 7 * 86_400_000;
export const RATE_LIMIT_DEFAULT_MS = 3 * 3_600_000;

/** When to ask again, given what the CA said, with a note when the value was floored, capped or assumed. */
export function rateLimitUntil(retryAfter: Date | undefined, now: Date): { until: Date; note?: string } {
  const { until, note } = boundedUntil(retryAfter, now);
  // Whole seconds, rounded up: the time a line shows is the time kept, and never before what the CA said.
  return { until: new Date(Math.ceil(until.getTime() / 1000) * 1000), ...(note ? { note } : {}) };
}

function boundedUntil(retryAfter: Date | undefined, now: Date): { until: Date; note?: string } {
  const at = (ms: number) => new Date(now.getTime() + ms);
  if (!retryAfter || Number.isNaN(retryAfter.getTime())) return { until: at(RATE_LIMIT_DEFAULT_MS), note: 'the CA gave no Retry-After: 3 hours assumed' };
  const wait = retryAfter.getTime() - now.getTime();
  if (wait < RATE_LIMIT_FLOOR_MS)
    return { until: at(RATE_LIMIT_FLOOR_MS), note: `the CA's Retry-After (${isoSeconds(retryAfter)}) is not in the future: 1 minute floor` };
  if (wait > RATE_LIMIT_CAP_MS) return { until: at(RATE_LIMIT_CAP_MS), note: `the CA's Retry-After (${isoSeconds(retryAfter)}) is beyond the 7-day cap` };
  return { until: retryAfter };
}

/** ISO 8601 to the second: 2026-11-25T09:00:00Z. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One recorded limit: a name at an issuer, or a whole issuer account. */
export interface RateLimitEntry {
  issuer: string;
  scope: 'name' | 'account';
  /** The name (scope 'name'), as DNS compares it. */
  name?: string;
  account?: string;
  /** When the run may ask again (ISO). */
  until: string;
  recordedAt: string;
  /** The stable code of the error (ACME_RATE_LIMITED, CA_UNAVAILABLE, ...). */
  code: string;
  kind: string;
  detail: string;
}

interface LedgerFile {
  version: 1;
  entries: RateLimitEntry[];
}

/** What holds an issuer back for a set of names: an account-wide limit, or the names' own limits. */
export interface RateLimitHold {
  scope: 'names' | 'account';
  /** The latest time among the entries that apply. */
  until: Date;
  names: string[];
  /** The entry that ends last (for its kind and detail). */
  entry: RateLimitEntry;
}

/**
 * The rate limits a CA imposed, in one JSON file of the state directory (written atomically, mode 0600), so that
 * later runs do not ask a CA again before it said they may. Read once per run; every recording re-reads the file
 * and merges, and drops what has run out. A file edited into nonsense is reported once (naming the file) and
 * treated as empty; entries that make no sense are dropped one by one; an `until` edited absurdly far is capped.
 */
export class RateLimitLedger {
  private entries: RateLimitEntry[] | undefined;
  private problems: string[] = [];
  private readonly reported = new Set<string>();
  private writes: Promise<void> = Promise.resolve();
  /** Limits other hosts met (a fleet), held in memory for this run beside the file's. */
  private shared: RateLimitEntry[] = [];
  /** Where the shared limits come from, asked once, when a hold is first looked up (a healthy run never asks). */
  private sharedSource?: { load: () => Promise<unknown[]>; name: string; loaded?: Promise<void> };

  constructor(
    readonly file: string,
    private readonly now: () => Date,
  ) {}

  /** Problems found in the file since the last call (each reported once per run). */
  takeProblems(): string[] {
    const problems = this.problems;
    this.problems = [];
    return problems;
  }

  /** Limits other hosts recorded are read from `load` the first time a hold is looked up, and added as addShared does. */
  shareFrom(load: () => Promise<unknown[]>, name: string): void {
    this.sharedSource = { load, name };
  }

  /**
   * Adds limits that other hosts recorded (a fleet's ledger) to this run's view. An entry that makes no sense is
   * dropped and said once, as one in the file would be; none is written to this host's file.
   */
  addShared(entries: unknown[], source: string): void {
    const cap = this.now().getTime() + RATE_LIMIT_CAP_MS;
    entries.forEach((raw, index) => {
      const why = invalidEntry(raw);
      if (why) this.problem(`${source}: entry ${index + 1} ${why}: ignored`);
      else this.shared.push(normalEntry(raw as RateLimitEntry, cap));
    });
  }

  /** What holds `issuer` back for these names now, or null when it may be asked. */
  async hold(issuer: string, names: string[]): Promise<RateLimitHold | null> {
    const source = this.sharedSource;
    if (source) await (source.loaded ??= source.load().then((entries) => this.addShared(entries, source.name)));
    const now = this.now().getTime();
    const live = [...(await this.current()), ...this.shared].filter((e) => e.issuer === issuer && new Date(e.until).getTime() > now);
    const account = live.filter((e) => e.scope === 'account');
    if (account.length) {
      const entry = latest(account);
      return { scope: 'account', until: new Date(entry.until), names: [], entry };
    }
    const wanted = new Set(names.map(comparableName));
    const byName = live.filter((e) => e.scope === 'name' && e.name !== undefined && wanted.has(e.name));
    if (byName.length === 0) return null;
    const entry = latest(byName);
    return { scope: 'names', until: new Date(entry.until), names: names.filter((n) => byName.some((e) => e.name === comparableName(n))), entry };
  }

  /** Records a limit the CA just imposed; returns when the run may ask again (floored/capped) and why it differs. */
  async record(
    issuer: string,
    code: string,
    notice: RateLimitNotice,
    orderNames: string[],
  ): Promise<{ until: Date; note?: string; names: string[]; entries: RateLimitEntry[] }> {
    const now = this.now();
    const { until, note } = rateLimitUntil(notice.retryAfter, now);
    const names = notice.scope === 'names' ? (notice.names.length ? notice.names : orderNames) : [];
    const base = {
      issuer,
      account: notice.account,
      until: until.toISOString(),
      recordedAt: now.toISOString(),
      code,
      kind: notice.kind,
      detail: notice.detail.slice(0, 500),
    };
    const fresh: RateLimitEntry[] =
      notice.scope === 'account'
        ? [{ ...base, scope: 'account' }]
        : [...new Set(names.map(comparableName))].map((name) => ({ ...base, scope: 'name' as const, name }));
    const write = this.writes.then(async () => {
      // Re-read: another target of this run (or another run) may have recorded meanwhile.
      const kept = (await this.read()).filter(
        (e) => new Date(e.until).getTime() > now.getTime() && !fresh.some((f) => f.issuer === e.issuer && f.scope === e.scope && f.name === e.name),
      );
      this.entries = [...kept, ...fresh];
      const data: LedgerFile = { version: 1, entries: this.entries };
      await writePrivateFileAtomic(this.file, `${JSON.stringify(data, null, 2)}\n`);
    });
    this.writes = write.catch(() => undefined);
    await write;
    return { until, note, names, entries: fresh };
  }

  private async current(): Promise<RateLimitEntry[]> {
    this.entries ??= await this.read();
    return this.entries;
  }

  private async read(): Promise<RateLimitEntry[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.problem(`${this.file}: cannot be read (${code ?? (error as Error).message}): no rate limit is known this run`);
      return [];
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      this.problem(`${this.file}: not valid JSON (${(error as Error).message}): ignored; it is rewritten at the next rate limit`);
      return [];
    }
    const entries = (data as Partial<LedgerFile> | null)?.entries;
    if (!data || typeof data !== 'object' || !Array.isArray(entries)) {
      this.problem(`${this.file}: not a rate-limit ledger (an object with an "entries" list was expected): ignored; it is rewritten at the next rate limit`);
      return [];
    }
    const cap = this.now().getTime() + RATE_LIMIT_CAP_MS;
    const out: RateLimitEntry[] = [];
    entries.forEach((raw: unknown, index) => {
      const why = invalidEntry(raw);
      if (why) {
        this.problem(`${this.file}: entry ${index + 1} ${why}: ignored`);
        return;
      }
      out.push(normalEntry(raw as RateLimitEntry, cap));
    });
    return out;
  }

  private problem(message: string): void {
    if (this.reported.has(message)) return;
    this.reported.add(message);
    this.problems.push(message);
  }
}

function invalidEntry(raw: unknown): string | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'is not an object';
  const e = raw as Record<string, unknown>;
  if (typeof e.issuer !== 'string' || e.issuer.length === 0) return 'has no "issuer"';
  if (e.scope !== 'name' && e.scope !== 'account') return `has scope ${JSON.stringify(e.scope)} (not "name" or "account")`;
  if (e.scope === 'name' && (typeof e.name !== 'string' || e.name.length === 0)) return 'has scope "name" but no "name"';
  if (typeof e.until !== 'string' || Number.isNaN(Date.parse(e.until))) return `has "until" ${JSON.stringify(e.until)}, not a date`;
  for (const field of ['code', 'kind', 'detail', 'account', 'recordedAt'] as const) {
    if (e[field] !== undefined && typeof e[field] !== 'string') return `has a "${field}" that is not text`;
  }
  return null;
}

/** An entry as the ledger keeps it: its name as DNS compares it, and an `until` no later than `cap`. */
function normalEntry(entry: RateLimitEntry, cap: number): RateLimitEntry {
  // An `until` edited to next century would silence the CA for good: no more than the cap from now.
  const until = Math.min(new Date(entry.until).getTime(), cap);
  return {
    ...entry,
    name: entry.name === undefined ? undefined : comparableName(entry.name),
    until: new Date(until).toISOString(),
    kind: entry.kind ?? 'rate limit',
    detail: entry.detail ?? '',
    code: entry.code ?? 'RATE_LIMITED',
  };
}

function latest(entries: RateLimitEntry[]): RateLimitEntry {
  return entries.reduce((a, b) => (new Date(b.until).getTime() > new Date(a.until).getTime() ? b : a));
}
