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
    elapsed?: () => number,
  ) {
    this.budget = new WaitBudget(settings.maxWaitMs, elapsed);
  }

  get offline(): boolean {
    return this.offlineReason !== undefined;
  }

  /** `work`'s result, or `fallback` when NATS is (or turns out to be) unreachable or slow. */
  async use<T>(fallback: T, work: (ask: Ask) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.offline || this.finished) return fallback;
    const ask: Ask = async (call) => {
      const clients = await this.budget.bound(() => this.connect(), signal);
      return this.budget.bound(() => call(clients), signal);
    };
    try {
      return await work(ask);
    } catch (error) {
      this.goOffline(error);
      return fallback;
    }
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

  private connect(): Promise<NatsClients> {
    if (!this.clients) {
      this.clients = openClients(this.settings, this.budget.remainingMs);
      this.clients.catch(() => undefined);
    }
    return this.clients;
  }
}
