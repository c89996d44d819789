import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetSlot } from '@certsmith/core';
import type { KvEntry } from '@nats-io/kv';
import type { Ask, FleetConnection } from './fleet-connection.js';
import { isConflict } from './js-errors.js';
import { HeldLease, isLeaseValue, type LeaseValue } from './lease.js';
import { leaseKeys } from './names.js';
import type { FleetSettings } from './options.js';
import type { OnceWarnings } from './warnings.js';

/** How often a host waiting for a slot looks again. */
export const SLOT_POLL_MS = 500;

/**
 * The fleet's bound on orders in flight per CA account: slot keys `lease.<issuer>.<n>` in a bucket whose TTL is the
 * lease, so that a host that dies frees its slot when its key expires.
 */
export class OrderSlots {
  constructor(
    private readonly settings: Pick<FleetSettings, 'leaseBucket' | 'leaseSeconds' | 'ordersInFlight' | 'hostname'>,
    private readonly connection: FleetConnection,
    private readonly warnings: OnceWarnings,
    private readonly now: () => Date,
  ) {}

  /** A slot, waiting while all are taken; null when NATS is unusable or the signal aborts the wait. */
  async acquire(issuer: string, signal: AbortSignal): Promise<FleetSlot | null> {
    const keys = leaseKeys(issuer, this.settings.ordersInFlight);
    for (;;) {
      const taken = await this.connection.use<FleetSlot | null | 'full'>(null, (ask) => this.takeFree(ask, keys));
      if (taken !== 'full') return taken;
      try {
        await sleep(SLOT_POLL_MS, undefined, { signal });
      } catch {
        return null; // the run gave up waiting
      }
    }
  }

  /** One look at every slot: the first free one taken, or 'full'. */
  private async takeFree(ask: Ask, keys: string[]): Promise<FleetSlot | 'full'> {
    const bucket = this.settings.leaseBucket;
    const kv = () => ask(({ bucket: open }) => open(bucket, { ttl: this.settings.leaseSeconds * 1000 }));
    await kv();
    const entries = await Promise.all(keys.map((key) => ask(async ({ bucket: open }) => (await open(bucket)).get(key))));
    entries.forEach((entry) => entry && this.checkValue(entry));
    for (const [i, key] of keys.entries()) {
      const previous = entries[i];
      if (previous?.operation === 'PUT') continue;
      const value = JSON.stringify({ host: this.settings.hostname, at: this.now().toISOString() } satisfies LeaseValue);
      const revision = await ask(async ({ bucket: open }) => {
        const leases = await open(bucket);
        return (previous ? leases.update(key, value, previous.revision) : leases.create(key, value)).catch((error: unknown) => {
          if (isConflict(error)) return null;
          throw error;
        });
      });
      if (revision !== null)
        return new HeldLease({ bucket, key, host: this.settings.hostname, leaseSeconds: this.settings.leaseSeconds, now: this.now }, revision, this.connection);
    }
    return 'full';
  }

  private checkValue(entry: KvEntry): void {
    if (entry.operation === 'PUT' && !isLeaseValue(entry.string()))
      this.warnings.add(`the order slot ${entry.key} in bucket ${this.settings.leaseBucket} holds a malformed value: counted as taken until it expires`);
  }
}
