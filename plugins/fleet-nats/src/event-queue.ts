import type { Bus, Clock } from '@certsmith/core';
import { eventSubject } from './names.js';
import type { Outbound } from './outbound.js';

/** A run's events kept in memory at most: beyond, the oldest are dropped (the local event log still has them). */
export const MAX_QUEUED_EVENTS = 10_000;

/**
 * Events every run has, one per service looked at: they tell the fleet nothing the status document does not, and a
 * host of 10,000 targets would send 10,000 of them every run. They stay in the local event log.
 */
const ROUTINE_EVENTS = new Set(['inspect']);

/**
 * The run's lifecycle events but the routine ones, queued as they happen and sent later, so that the run never waits
 * on NATS for them. Each gets the message id `<host>.<runId>.<seq>`: sent twice (from the spool), the stream stores it
 * once.
 */
export class EventQueue {
  private seq = 0;
  private queued: Outbound[] = [];

  constructor(
    private readonly host: string,
    private readonly runId: string,
    private readonly clock: Clock,
  ) {}

  listen(bus: Bus): void {
    bus.on('*', (type, event) => this.add(type, event));
  }

  add(type: string, event: unknown): void {
    if (ROUTINE_EVENTS.has(type)) return;
    const seq = this.seq++;
    const data = JSON.stringify({ host: this.host, runId: this.runId, seq, at: this.clock.now().toISOString(), type, event });
    this.queued.push({ kind: 'event', subject: eventSubject(this.host, type), msgID: `${this.host}.${this.runId}.${seq}`, data });
    if (this.queued.length > MAX_QUEUED_EVENTS) this.queued.shift();
  }

  take(): Outbound[] {
    const taken = this.queued;
    this.queued = [];
    return taken;
  }
}
