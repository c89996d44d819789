import type { Bus, Clock } from '@certsmith/core';
import { eventSubject } from './names.js';
import type { Outbound } from './outbound.js';

/** A run's events kept in memory at most: beyond, the oldest are dropped (the local event log still has them). */
export const MAX_QUEUED_EVENTS = 10_000;

/** Events every run has, one per service looked at: alone, they tell the fleet nothing the status does not. */
const ROUTINE_EVENTS = new Set(['inspect']);

/**
 * The run's lifecycle events, queued as they happen and sent later, so that the run never waits on NATS for them.
 * Each gets the message id `<host>.<runId>.<seq>`: sent twice (from the spool), the stream stores it once.
 */
export class EventQueue {
  private seq = 0;
  private queued: Outbound[] = [];
  private told = false;

  constructor(
    private readonly host: string,
    private readonly runId: string,
    private readonly clock: Clock,
  ) {}

  listen(bus: Bus): void {
    bus.on('*', (type, event) => this.add(type, event));
  }

  /** Whether an event other than the routine ones came since the last take(). */
  get telling(): boolean {
    return this.told;
  }

  add(type: string, event: unknown): void {
    if (!ROUTINE_EVENTS.has(type)) this.told = true;
    const seq = this.seq++;
    const data = JSON.stringify({ host: this.host, runId: this.runId, seq, at: this.clock.now().toISOString(), type, event });
    this.queued.push({ kind: 'event', subject: eventSubject(this.host, type), msgID: `${this.host}.${this.runId}.${seq}`, data });
    if (this.queued.length > MAX_QUEUED_EVENTS) this.queued.shift();
  }

  take(): Outbound[] {
    const taken = this.queued;
    this.queued = [];
    this.told = false;
    return taken;
  }
}
