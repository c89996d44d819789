import { openClients, type NatsClients } from './nats-clients.js';
import type { FleetSettings } from './options.js';
import { WaitBudget } from './wait-budget.js';
import type { OnceWarnings } from './warnings.js';

const DRAIN_MS = 1_000;

/** One NATS call on the run's path, charged to the run's budget. */
export type Ask = <T>(call: (clients: NatsClients) => Promise<T>) => Promise<T>;

/**
 * The run's one connection to NATS, opened at the first call. Every call is charged to one WaitBudget; the first
 * failure or time-out makes the link offline for the rest of the run: calls then return their fallback at once, and
 * one warning says why.
 */
export class FleetConnection {
  private clients: Promise<NatsClients> | undefined;
  private offlineReason: string | undefined;
  private finished = false;
  readonly budget: WaitBudget;

  constructor(
    private readonly settings: FleetSettings,
    private readonly warnings: OnceWarnings,
    /** A monotonic clock in ms (the run's Clock may stand still). */
    readonly elapsed: () => number = () => performance.now(),
  ) {
    this.budget = new WaitBudget(settings.maxWaitMs, elapsed);
  }

  get offline(): boolean {
    return this.offlineReason !== undefined;
  }

  /** `work`'s result, or `fallback` when NATS is (or turns out to be) unreachable or slow. */
  async use<T>(fallback: T, work: (ask: Ask) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.offline || this.finished) return fallback;
    try {
      return await work(this.askWithin(this.budget, signal));
    } catch (error) {
      this.goOffline(error);
      return fallback;
    }
  }

  /**
   * Like `use`, for a look whose answer may be "not yet" (every order slot taken): an answer is not NATS being
   * unreachable or slow, so a host may look again and again while the fleet is busy. Each look is bounded on its own by
   * what is left of the run's budget, and charged to it only when it fails or `charged(result)` (it took something).
   */
  async look<T>(fallback: T, work: (ask: Ask) => Promise<T>, charged: (result: T) => boolean, signal?: AbortSignal): Promise<T> {
    if (this.offline || this.finished) return fallback;
    if (this.budget.remainingMs <= 0) return this.use(fallback, work, signal); // out of time: offline, as any call
    const own = new WaitBudget(this.budget.remainingMs, this.elapsed);
    try {
      const result = await work(this.askWithin(own, signal));
      if (charged(result)) this.budget.charge(own.spentMs);
      return result;
    } catch (error) {
      this.budget.charge(own.spentMs);
      this.goOffline(error);
      return fallback;
    }
  }

  private askWithin(budget: WaitBudget, signal: AbortSignal | undefined): Ask {
    return async (call) => {
      const clients = await budget.bound(() => this.connect(budget), signal);
      return budget.bound(() => call(clients), signal);
    };
  }

  /** The run is over: the connection goes and is not opened again (a slot still held lapses at its TTL). */
  async finish(): Promise<void> {
    this.finished = true;
    await this.close();
  }

  /** Lets the connection go (waiting for what it still sends), so that the process can exit. */
  private async close(): Promise<void> {
    const clients = this.clients;
    this.clients = undefined;
    if (!clients) return;
    const nc = await clients.then((c) => c.nc).catch(() => undefined);
    if (!nc) return;
    // A server that stopped answering would hold a drain: past a second the connection is closed outright.
    const timer = setTimeout(() => void nc.close().catch(() => undefined), DRAIN_MS);
    await nc.drain().catch(() => nc.close().catch(() => undefined));
    clearTimeout(timer);
  }

  goOffline(error: unknown): void {
    if (this.offline) return;
    this.offlineReason = error instanceof Error ? error.message : String(error);
    this.warnings.add(
      `NATS at ${this.settings.servers.join(', ')} is not usable (${this.offlineReason}): this run goes on alone; ` +
        `its events and status wait in ${this.settings.spoolFile}`,
    );
    void this.close();
  }

  private connect(budget: WaitBudget): Promise<NatsClients> {
    if (!this.clients) {
      this.clients = openClients(this.settings, budget.remainingMs);
      this.clients.catch(() => undefined);
    }
    return this.clients;
  }
}
