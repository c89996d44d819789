import type { FleetSlot } from '@certsmith/core';
import type { FleetConnection } from './fleet-connection.js';
import { isConflict } from './js-errors.js';

/** The longest lease a host may hold (leaseSeconds' bound): a value saying more is not a lease. */
const MAX_LEASE_SECONDS = 86_400;

/** What a slot's key holds while a host has it. */
export interface LeaseValue {
  host: string;
  /** When the host took or last refreshed it (ISO 8601). */
  at: string;
  /**
   * The holder's lease: it refreshes every third of it, so no other host takes it over sooner. Absent in a value an
   * earlier version wrote: that one is judged by the lease of the host that looks.
   */
  leaseSeconds?: number;
}

function leaseValueOf(text: string): LeaseValue | null {
  try {
    const value = JSON.parse(text) as Partial<LeaseValue> | null;
    const { host, at, leaseSeconds } = value ?? {};
    const lease = leaseSeconds === undefined || (Number.isInteger(leaseSeconds) && leaseSeconds >= 1 && leaseSeconds <= MAX_LEASE_SECONDS);
    return typeof host === 'string' && typeof at === 'string' && lease ? (value as LeaseValue) : null;
  } catch {
    return null;
  }
}

export function isLeaseValue(text: string): boolean {
  return leaseValueOf(text) !== null;
}

/** The lease its holder said it keeps, if its value says one. */
export function holderLeaseSeconds(text: string): number | undefined {
  return leaseValueOf(text)?.leaseSeconds;
}

/** The value a host writes when it takes or refreshes a slot. */
export function leaseValue(host: string, leaseSeconds: number, now: Date): string {
  return JSON.stringify({ host, at: now.toISOString(), leaseSeconds } satisfies LeaseValue);
}

export interface LeaseTerms {
  bucket: string;
  key: string;
  host: string;
  leaseSeconds: number;
  now: () => Date;
}

/**
 * A slot this host holds. Its fencing token is the key's revision: every refresh (a third of the lease) writes the
 * key again only if it still holds that revision, and the release deletes it only then, so a holder whose lease ran
 * out and was taken by another host can neither refresh nor free the new holder's slot.
 */
export class HeldLease implements FleetSlot {
  private revision: number;
  private readonly refresher: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly terms: LeaseTerms,
    revision: number,
    private readonly connection: FleetConnection,
  ) {
    this.revision = revision;
    this.refresher = setInterval(() => void this.refresh(), (terms.leaseSeconds * 1000) / 3);
    // A slot must not keep the process alive: a host that exits frees it when the lease runs out.
    this.refresher.unref();
  }

  get token(): string {
    return String(this.revision);
  }

  async release(): Promise<void> {
    if (this.done) return;
    this.stop();
    const { bucket, key } = this.terms;
    await this.connection.use(undefined, (ask) => ask(async (c) => (await c.bucket(bucket)).delete(key, { previousSeq: this.revision }).catch(ignoreConflict)));
  }

  private async refresh(): Promise<void> {
    const { bucket, key, host, leaseSeconds, now } = this.terms;
    const value = leaseValue(host, leaseSeconds, now());
    await this.connection.use(undefined, async (ask) => {
      const revision = await ask(async (c) => (await c.bucket(bucket)).update(key, value, this.revision).catch(ignoreConflict));
      if (revision === undefined)
        this.stop(); // lost: another host holds the slot now
      else if (!this.done) this.revision = revision;
    });
  }

  private stop(): void {
    this.done = true;
    clearInterval(this.refresher);
  }
}

function ignoreConflict(error: unknown): undefined {
  if (isConflict(error)) return undefined;
  throw error;
}
