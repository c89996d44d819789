/**
 * How many orders one issuer has in flight at its CA at once, whatever the number of targets the run works on
 * together: the run may check and install more targets at a time than it orders (a local pre-check or an install
 * asks nothing of the CA), while the CA sees no more orders at once than it always did. First come, first served.
 */
/** What a CA saw of a run before the run could work on more targets than it orders: four at a time. */
export const DEFAULT_ORDERS_IN_FLIGHT = 4;

export class OrderGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async through<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the place passes straight on
      else this.running--;
    }
  }
}
