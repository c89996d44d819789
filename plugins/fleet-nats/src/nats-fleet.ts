import { randomUUID } from 'node:crypto';
import type { Bus, Clock, FleetLink, FleetSlot, FleetView, Issuer, RateLimitEntry, RunReport, StatusReport, StatusSink } from '@certsmith/core';
import { EventQueue } from './event-queue.js';
import { FleetConnection } from './fleet-connection.js';
import { readFleetView } from './fleet-view.js';
import { withoutHost } from './ledger-value.js';
import type { FleetSettings } from './options.js';
import { OrderSlots } from './order-slots.js';
import { SharedLedger } from './shared-ledger.js';
import { Spool } from './spool.js';
import { sendWithSpool, statusMessage } from './status-publication.js';
import { OnceWarnings } from './warnings.js';

export interface NatsFleetDeps {
  clock: Clock;
  /** A monotonic clock in ms for the wait budget (default performance.now). */
  elapsed?: () => number;
  /** This run's id in the events' message ids (default a random UUID). */
  runId?: string;
}

/**
 * One host's link to a fleet over NATS JetStream, for one run: its events to a stream, its status to a KV bucket,
 * the CAs' rate limits shared through another, and the fleet's bound on orders in flight as leases in a third.
 * Every call on the run's path shares one wait budget; past it, or at the first failure, the host goes on alone.
 */
export class NatsFleet implements StatusSink, FleetLink {
  readonly id = 'nats';
  private readonly warnings = new OnceWarnings();
  private readonly connection: FleetConnection;
  private readonly events: EventQueue;
  private readonly ledger: SharedLedger;
  private readonly slots: OrderSlots;
  private readonly spool: Spool;
  private readonly now: () => Date;

  constructor(
    private readonly settings: FleetSettings,
    deps: NatsFleetDeps,
  ) {
    this.now = () => deps.clock.now();
    this.connection = new FleetConnection(settings, this.warnings, deps.elapsed);
    this.events = new EventQueue(settings.host, deps.runId ?? randomUUID(), deps.clock);
    this.ledger = new SharedLedger(settings.ledgerBucket, this.warnings, this.now);
    this.slots = new OrderSlots(settings, this.connection, this.warnings, this.now);
    this.spool = new Spool(settings.spoolFile);
  }

  listen(bus: Bus): void {
    this.events.listen(bus);
  }

  sharedRateLimits(signal: AbortSignal): Promise<RateLimitEntry[]> {
    return this.connection.use<RateLimitEntry[]>(
      [],
      async (ask) => (await this.ledger.read(ask)).filter((e) => e.host !== this.settings.hostname).map(withoutHost),
      signal,
    );
  }

  async shareRateLimits(entries: RateLimitEntry[], signal: AbortSignal): Promise<void> {
    if (entries.length === 0) return;
    await this.connection.use(undefined, (ask) => this.ledger.share(ask, this.settings.hostname, entries), signal);
  }

  orderSlot(issuer: Issuer, signal: AbortSignal): Promise<FleetSlot | null> {
    return this.slots.acquire(issuer.id, signal);
  }

  takeWarnings(): string[] {
    return this.warnings.take();
  }

  /** Sends the spool, the run's events and its status, then lets the connection go; never throws. */
  async publish(status: StatusReport, _report: RunReport, signal: AbortSignal): Promise<{ detail: string; warnings?: string[] }> {
    const messages = [...this.events.take(), statusMessage(this.settings, status, this.now())];
    try {
      const { sent, spooled } = await sendWithSpool(this.connection, this.spool, this.settings, messages, this.warnings, signal);
      const detail = spooled === 0 ? `${sent} messages sent` : `${sent} messages sent, ${spooled} spooled to ${this.spool.file}`;
      return { detail, warnings: this.warnings.take() };
    } catch (error) {
      return { detail: 'failed', warnings: [...this.warnings.take(), `the fleet spool ${this.spool.file}: ${(error as Error).message}`] };
    } finally {
      await this.connection.finish();
    }
  }

  view(signal: AbortSignal): Promise<FleetView> {
    return readFleetView(this.settings, this.now, signal);
  }
}
