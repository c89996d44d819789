import type { FleetSlot, RateLimitEntry } from '@certsmith/core';
import { FleetConnection } from './fleet-connection.js';
import { withoutHost } from './ledger-value.js';
import type { FleetSettings } from './options.js';
import { OrderSlots } from './order-slots.js';
import { SharedLedger } from './shared-ledger.js';
import type { Spool } from './spool.js';
import { sendWithSpool, type Outgoing, type SpoolSendOutcome } from './status-publication.js';
import type { OnceWarnings } from './warnings.js';

/**
 * What a run does with NATS once it does anything: one connection and wait budget, the shared rate limits, the order
 * slots and the sending. Its module is loaded at the first use, so that a run with nothing to ask or send loads none
 * of this, nor the NATS clients.
 */
export class FleetSession {
  private readonly connection: FleetConnection;
  private readonly ledger: SharedLedger;
  private readonly slots: OrderSlots;

  constructor(
    private readonly settings: FleetSettings,
    private readonly warnings: OnceWarnings,
    now: () => Date,
    elapsed?: () => number,
  ) {
    this.connection = new FleetConnection(settings, warnings, elapsed);
    this.ledger = new SharedLedger(settings.ledgerBucket, warnings, now);
    this.slots = new OrderSlots(settings, this.connection, warnings, now);
  }

  sharedRateLimits(signal: AbortSignal): Promise<RateLimitEntry[]> {
    return this.connection.use<RateLimitEntry[]>(
      [],
      async (ask) => (await this.ledger.read(ask)).filter((e) => e.host !== this.settings.hostname).map(withoutHost),
      signal,
    );
  }

  async shareRateLimits(entries: RateLimitEntry[], signal: AbortSignal): Promise<void> {
    await this.connection.use(undefined, (ask) => this.ledger.share(ask, this.settings.hostname, entries), signal);
  }

  orderSlot(issuer: string, signal: AbortSignal): Promise<FleetSlot | null> {
    return this.slots.acquire(issuer, signal);
  }

  send(spool: Spool, outgoing: Outgoing, signal: AbortSignal): Promise<SpoolSendOutcome> {
    return sendWithSpool(this.connection, spool, this.settings, outgoing, this.warnings, signal);
  }

  /** The run is over: the connection goes and is not opened again (a slot still held lapses at its TTL). */
  finish(): Promise<void> {
    return this.connection.finish();
  }
}
