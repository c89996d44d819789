/** A call to NATS that did not answer within what is left of the run's budget (or whose signal aborted). */
export class OutOfTime extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfTime';
  }
}

/**
 * The time a run may spend waiting on NATS, all calls together. Time counts while at least one call is out, so calls
 * made side by side are charged once. `elapsed` is a monotonic clock in ms (the run's Clock may stand still).
 */
export class WaitBudget {
  private spent = 0;
  private outstanding = 0;
  private busySince = 0;

  constructor(
    readonly totalMs: number,
    private readonly elapsed: () => number = () => performance.now(),
  ) {}

  get remainingMs(): number {
    return Math.max(0, this.totalMs - this.spentMs);
  }

  /** What the calls took so far, those still out included. */
  get spentMs(): number {
    return this.spent + (this.outstanding > 0 ? this.elapsed() - this.busySince : 0);
  }

  /** Charges time spent outside this budget's own calls (a look bounded on its own, see FleetConnection.look). */
  charge(ms: number): void {
    this.spent += ms;
  }

  /** The call's outcome, or OutOfTime when the budget runs out (or the signal aborts) first. */
  async bound<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const left = this.remainingMs;
    if (left <= 0) throw new OutOfTime(`no time left of the ${this.totalMs} ms budget`);
    if (signal?.aborted) throw new OutOfTime('the run was aborted');
    this.begin();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const pending = call();
    // A call given up on may still fail later: its failure is of no interest then.
    pending.catch(() => undefined);
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new OutOfTime(`no answer within ${Math.round(left)} ms`)), left);
          onAbort = () => reject(new OutOfTime('the run was aborted'));
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      this.end();
    }
  }

  private begin(): void {
    if (this.outstanding++ === 0) this.busySince = this.elapsed();
  }

  private end(): void {
    if (--this.outstanding === 0) this.spent += this.elapsed() - this.busySince;
  }
}
