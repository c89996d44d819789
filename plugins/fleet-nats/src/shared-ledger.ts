import type { RateLimitEntry } from '@certsmith/core';
import type { KvEntry } from '@nats-io/kv';
import type { Ask } from './fleet-connection.js';
import { isConflict } from './js-errors.js';
import { ledgerEntriesOf, mergedLedger, isLive, type FleetRateLimit } from './ledger-value.js';
import { RATE_LIMIT_KEYS, rateLimitKey } from './names.js';
import type { OnceWarnings } from './warnings.js';

/** Tries of a compare-and-set before giving up for this run (each loser re-reads and merges again). */
const CAS_ATTEMPTS = 8;

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
    return values.flatMap((entry) => (entry ? this.entriesOf(entry) : [])).filter((e) => isLive(e, now));
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
      const value = JSON.stringify(mergedLedger(current ? this.entriesOf(current) : [], added, this.now()));
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
    }
    this.warnings.add(`the fleet's rate limits under ${key} kept changing: this host's limit was not shared this run`);
  }

  private entriesOf(entry: KvEntry): FleetRateLimit[] {
    if (entry.operation !== 'PUT') return [];
    const entries = ledgerEntriesOf(entry.string());
    if (entries === null) this.warnings.add(`the fleet's rate-limit value under ${entry.key} in bucket ${this.bucketName} is malformed: ignored`);
    return entries ?? [];
  }
}
