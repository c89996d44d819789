import type { RateLimitEntry } from '@certsmith/core';
import type { KvEntry } from '@nats-io/kv';
import type { Ask } from './fleet-connection.js';
import { isConflict } from './js-errors.js';
import { ledgerOf, mergedLedger, isLive, type FleetRateLimit, type ReadLedger } from './ledger-value.js';
import { RATE_LIMIT_KEYS, rateLimitKey } from './names.js';
import type { OnceWarnings } from './warnings.js';

/**
 * Tries of a compare-and-set before giving up for this run. Each loser re-reads and merges again after a short random
 * pause that grows with its tries: hosts that met a limit at once (a migration) spread out instead of colliding again.
 */
const CAS_ATTEMPTS = 16;
const CAS_PAUSE_MS = 5;

const NO_LEDGER: ReadLedger = { entries: [], foreign: [], malformed: 0 };

/** The fleet's rate limits: one KV key per issuer id, each a list updated by compare-and-set. */
export class SharedLedger {
  constructor(
    private readonly bucketName: string,
    private readonly warnings: OnceWarnings,
    private readonly now: () => Date,
  ) {}

  /** Every live entry of every issuer's key; a value that is not a ledger is left out, with a warning. */
  async read(ask: Ask): Promise<FleetRateLimit[]> {
    const keys = await ask(async ({ bucket }) => {
      const found: string[] = [];
      for await (const key of await (await bucket(this.bucketName)).keys(RATE_LIMIT_KEYS)) found.push(key);
      return found;
    });
    const values = await Promise.all(keys.map((key) => ask(async ({ bucket }) => (await bucket(this.bucketName)).get(key))));
    const now = this.now();
    return values.flatMap((entry) => (entry ? this.ledgerOf(entry).entries : [])).filter((e) => isLive(e, now));
  }

  /** Adds this host's entries under their issuers' keys. */
  async share(ask: Ask, host: string, entries: RateLimitEntry[]): Promise<void> {
    const byIssuer = new Map<string, FleetRateLimit[]>();
    for (const entry of entries) byIssuer.set(entry.issuer, [...(byIssuer.get(entry.issuer) ?? []), { ...entry, host }]);
    await Promise.all([...byIssuer].map(([issuer, added]) => this.merge(ask, rateLimitKey(issuer), added)));
  }

  private async merge(ask: Ask, key: string, added: FleetRateLimit[]): Promise<void> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await ask(async ({ bucket }) => (await bucket(this.bucketName)).get(key));
      const value = JSON.stringify(mergedLedger(current ? this.ledgerOf(current) : NO_LEDGER, added, this.now()));
      const written = await ask(async ({ bucket }) => {
        const kv = await bucket(this.bucketName);
        return (current ? kv.update(key, value, current.revision) : kv.create(key, value)).then(
          () => true,
          (error: unknown) => {
            if (isConflict(error)) return false;
            throw error;
          },
        );
      });
      if (written) return;
      await pause(Math.random() * CAS_PAUSE_MS * 2 ** Math.min(attempt, 4));
    }
    this.warnings.add(`the fleet's rate limits under ${key} kept changing: this host's limit was not shared this run`);
  }

  /**
   * The value's entries; a malformed value or entry is said once, naming the key. A newer version's entry (one with
   * an `until`) is not: a fleet part-way through an upgrade has them at every run, and a merge keeps them until then.
   */
  private ledgerOf(entry: KvEntry): ReadLedger {
    if (entry.operation !== 'PUT') return NO_LEDGER;
    const ledger = ledgerOf(entry.string());
    const where = `the fleet's rate-limit value under ${entry.key} in bucket ${this.bucketName}`;
    if (ledger === null) this.warnings.add(`${where} is malformed: ignored`);
    else if (ledger.malformed > 0) this.warnings.add(`${where} has malformed entries (${ledger.malformed}): ignored, dropped at its next write`);
    return ledger ?? NO_LEDGER;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
