/** Real time, or a test's: how the order flow waits between looks at the CA. */
export interface PollTiming {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const REAL_TIMING: PollTiming = { now: () => Date.now(), sleep: abortableSleep };

/**
 * The first look at an order comes soon after the challenges are answered: a CA that validates over a local network
 * (Pebble, a private CA) is done within tens of milliseconds, and every look later than that is time the order
 * holds one of the run's few places at the CA. Public CAs take a second or more: the doubling reaches them in a
 * handful of requests.
 */
export const DEFAULT_POLL_START_MS = 25;
export const DEFAULT_POLL_MAX_MS = 5_000;

/**
 * When to ask the CA again: the schedule's own step (short first, then doubling up to the cap) unless the CA sent
 * `Retry-After`, which then decides alone: never sooner (RFC 8555 section 8.2 and 7.5.1), and no later either, as
 * the CA says when the answer will be there. Never past the run's wait bound: the schedule's own step is cut to what
 * is left of it once, and a `Retry-After` beyond it ends the waiting (the order is left for a later run).
 */
export class PollSchedule {
  private step: number;

  constructor(
    private readonly deadline: number,
    private readonly startMs: number = DEFAULT_POLL_START_MS,
    private readonly maxMs: number = DEFAULT_POLL_MAX_MS,
  ) {
    this.step = Math.min(startMs, maxMs);
  }

  /** Milliseconds to wait before the next request, or null when no request may be made within the wait bound. */
  next(now: number, retryAfter?: Date): number | null {
    const own = this.step;
    this.step = Math.min(this.maxMs, this.step * 2);
    if (retryAfter) {
      // "Retry-After: 0" allows asking at once; one step of ours still, so a CA that always says 0 is not hammered.
      const wait = Math.max(retryAfter.getTime() - now, Math.min(this.startMs, own));
      return now + wait <= this.deadline ? wait : null;
    }
    if (now + own <= this.deadline) return own;
    return this.deadline - now > 0 ? this.deadline - now : null;
  }
}

/**
 * What this run has seen of how long the CA takes to validate an answered order, so that the first look at the next
 * one comes about when it is decided: one look per order at a steady CA, instead of a few short ones (each look is a
 * signed request, about 0.75 ms of CPU here). The first look after a decided one probes a little sooner, so that
 * the estimate follows a CA that got faster; one that found the order still pending puts the estimate between that
 * look and the one that found it decided.
 */
export class ValidationPace {
  private estimate: number | undefined;

  constructor(
    private readonly startMs: number = DEFAULT_POLL_START_MS,
    private readonly maxMs: number = DEFAULT_POLL_MAX_MS,
  ) {}

  /** The first step of the schedule for the next answered order. */
  firstStep(): number {
    return Math.round(Math.min(this.maxMs, Math.max(this.startMs, this.estimate ?? this.startMs)));
  }

  /**
   * An order was found decided `decidedAfterMs` after its challenges were answered; `pendingAfterMs` is when the
   * look before found it still pending (undefined: the first look found it decided).
   */
  observe(decidedAfterMs: number, pendingAfterMs?: number): void {
    const seen = pendingAfterMs === undefined ? decidedAfterMs * 0.75 : (pendingAfterMs + decidedAfterMs) / 2;
    this.estimate = this.estimate === undefined ? seen : (this.estimate + seen) / 2;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
