import type { Bus, ValidatedEvent } from '@certsmith/core';

/** One kind of DCV failure and how often the run met it. */
export interface DcvFailureCount {
  target: string;
  method: string;
  over: 'http' | 'dns';
  code: string;
  count: number;
}

/** A failed verdict without a stable code (a CA's refusal says only its own words). */
export const UNCLASSIFIED = 'UNCLASSIFIED';

/**
 * Counts the run's failed DCV verdicts by target, method, transport and code, from the bus. Only verdicts that
 * say what they were proved over are DCV; CAA and config verdicts are not counted.
 */
export class DcvFailureTally {
  private readonly counts = new Map<string, DcvFailureCount>();

  listen(bus: Bus): void {
    bus.on('validated', (event) => this.record(event));
  }

  record(event: ValidatedEvent): void {
    if (event.ok || !event.over) return;
    const entry = { target: event.target, method: event.method, over: event.over, code: event.code ?? UNCLASSIFIED };
    const key = JSON.stringify(entry);
    const known = this.counts.get(key);
    if (known) known.count++;
    else this.counts.set(key, { ...entry, count: 1 });
  }

  /** What was counted since the last take; the tally starts again from zero (the next run's). */
  take(): DcvFailureCount[] {
    const counts = [...this.counts.values()];
    this.counts.clear();
    return counts;
  }
}
