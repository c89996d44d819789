import { setTimeout as sleep } from 'node:timers/promises';
import type { FleetSlot } from '@certsmith/core';
import type { KV, KvEntry } from '@nats-io/kv';
import type { Ask, FleetConnection } from './fleet-connection.js';
import { isConflict } from './js-errors.js';
import { HeldLease, holderLeaseSeconds, isLeaseValue, leaseValue } from './lease.js';
import { leaseKeys } from './names.js';
import type { FleetSettings } from './options.js';
import type { OnceWarnings } from './warnings.js';

/** How often a host waiting for a slot looks again. */
export const SLOT_POLL_MS = 500;

type SlotSettings = Pick<FleetSettings, 'leaseBucket' | 'leaseSeconds' | 'ordersInFlight' | 'hostname' | 'slotWaitSeconds'>;

/**
 * The fleet's bound on orders in flight per CA account: slot keys `lease.<issuer>.<n>` in a bucket whose TTL is the
 * lease, so that a host that dies frees its slot when its key expires. A lease not written for longer than the lease
 * (a bucket made without that TTL keeps it) is taken over too.
 */
export class OrderSlots {
  private bucketChecked = false;
  /** Per issuer, when this run's wait for a slot ends (elapsed ms): counted from its first wait, once a run. */
  private readonly waitEnds = new Map<string, number>();

  constructor(
    private readonly settings: SlotSettings,
    private readonly connection: FleetConnection,
    private readonly warnings: OnceWarnings,
    private readonly now: () => Date,
  ) {}

  /**
   * A slot, waiting while all are taken. The looks that answer "all taken" are not charged to the run's wait budget
   * (the fleet is busy, not unreachable): the wait ends with a slot, the signal, or `slotWaitSeconds` after the run
   * first waited for that issuer (one wait a run, not one an order: a run of many orders ends in time). Null when NATS
   * is unusable, the signal aborts, or no slot came free in time (the order goes without one, with a warning); once
   * that time has passed, an order takes a free slot if it finds one at its first look, or goes without one at once.
   */
  async acquire(issuer: string, signal: AbortSignal): Promise<FleetSlot | null> {
    const keys = leaseKeys(issuer, this.settings.ordersInFlight);
    for (;;) {
      const taken = await this.connection.look<FleetSlot | null | 'full'>(
        null,
        (ask) => this.takeFree(ask, keys),
        (r) => r !== 'full',
        signal,
      );
      if (taken !== 'full') return taken;
      if (this.connection.elapsed() >= this.waitEnd(issuer)) return this.waitedTooLong(issuer);
      try {
        await sleep(SLOT_POLL_MS, undefined, { signal });
      } catch {
        return null; // the run gave up waiting
      }
    }
  }

  /** One look at every slot: the first free (or expired) one taken, or 'full'. */
  private async takeFree(ask: Ask, keys: string[]): Promise<FleetSlot | 'full'> {
    const bucket = this.settings.leaseBucket;
    // The first open makes the bucket with the lease as its TTL; an existing bucket is opened as it is.
    const kv = await ask(({ bucket: open }) => open(bucket, { ttl: this.settings.leaseSeconds * 1000 }));
    if (!this.bucketChecked) await this.checkBucket(ask, kv);
    const entries = await Promise.all(keys.map((key) => ask(async ({ bucket: open }) => (await open(bucket)).get(key))));
    entries.forEach((entry) => entry && this.checkValue(entry));
    for (const [i, key] of keys.entries()) {
      const previous = entries[i];
      if (previous?.operation === 'PUT' && !this.expired(previous)) continue;
      const value = leaseValue(this.settings.hostname, this.settings.leaseSeconds, this.now());
      // Over a deleted or expired lease, at its revision: of two hosts taking it, one wins; a holder that comes back
      // later can neither refresh nor release it (the revision is the fencing token).
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

  /** When this run's wait for the issuer's slots ends: set at its first wait. */
  private waitEnd(issuer: string): number {
    let end = this.waitEnds.get(issuer);
    if (end === undefined) this.waitEnds.set(issuer, (end = this.connection.elapsed() + this.settings.slotWaitSeconds * 1000));
    return end;
  }

  /**
   * A lease its holder has not written for longer than the lease: it refreshes every third of it, so it is gone. The
   * lease is the longer of this host's and the one the holder wrote in the value (hosts may differ: one with a shorter
   * lease would take a live lease before its holder refreshes). The age is counted from the server's time of the
   * write, not from the time the holder put in the value.
   */
  private expired(entry: KvEntry): boolean {
    const leaseSeconds = Math.max(this.settings.leaseSeconds, holderLeaseSeconds(entry.string()) ?? 0);
    return this.now().getTime() - entry.created.getTime() > leaseSeconds * 1000;
  }

  /** Once a run: a bucket made beforehand keeps its own TTL (none, or another), which the plugin never changes. */
  private async checkBucket(ask: Ask, kv: KV): Promise<void> {
    const ttlMs = (await ask(() => kv.status())).ttl;
    this.bucketChecked = true;
    const leaseMs = this.settings.leaseSeconds * 1000;
    if (ttlMs === leaseMs) return;
    const kept = ttlMs === 0 ? 'no TTL' : `a TTL of ${ttlMs / 1000} s`;
    this.warnings.add(
      `FLEET_LEASE_BUCKET_TTL: the lease bucket ${this.settings.leaseBucket} has ${kept}, not leaseSeconds (${this.settings.leaseSeconds} s): ` +
        `a lease not refreshed for ${this.settings.leaseSeconds} s is taken over; make the bucket again with that TTL`,
    );
  }

  private waitedTooLong(issuer: string): null {
    this.warnings.add(
      `FLEET_SLOT_WAIT: no order slot for ${issuer} came free in ${this.settings.slotWaitSeconds} s (slotWaitSeconds; bucket ${this.settings.leaseBucket}): ` +
        `orders of this run that find none free go without one`,
    );
    return null;
  }

  private checkValue(entry: KvEntry): void {
    if (entry.operation === 'PUT' && !isLeaseValue(entry.string()))
      this.warnings.add(`the order slot ${entry.key} in bucket ${this.settings.leaseBucket} holds a malformed value: counted as taken until it expires`);
  }
}
