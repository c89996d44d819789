import { randomUUID } from 'node:crypto';
import type { Bus, Clock, FleetLink, FleetSlot, FleetView, Issuer, RateLimitEntry, RunReport, StatusReport, StatusSink } from '@certsmith/core';
import { EventQueue } from './event-queue.js';
import type { FleetSession } from './fleet-session.js';
import { LastReport, mustReport, reportDestination, statusDigest } from './last-report.js';
import type { FleetSettings } from './options.js';
import { statusMessage } from './outbound.js';
import { Spool } from './spool.js';
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
 * Nothing of NATS is loaded until the run asks the fleet something or has something to send.
 */
export class NatsFleet implements StatusSink, FleetLink {
  readonly id = 'nats';
  private readonly warnings = new OnceWarnings();
  private readonly events: EventQueue;
  private readonly spool: Spool;
  private readonly lastReport: LastReport;
  private readonly now: () => Date;
  private session: Promise<FleetSession> | undefined;
  private finished = false;

  constructor(
    private readonly settings: FleetSettings,
    private readonly deps: NatsFleetDeps,
  ) {
    this.now = () => deps.clock.now();
    this.events = new EventQueue(settings.host, deps.runId ?? randomUUID(), deps.clock);
    this.spool = new Spool(settings.spoolFile);
    this.lastReport = new LastReport(settings.reportFile);
  }

  listen(bus: Bus): void {
    this.events.listen(bus);
  }

  async sharedRateLimits(signal: AbortSignal): Promise<RateLimitEntry[]> {
    return this.finished ? [] : (await this.online()).sharedRateLimits(signal);
  }

  async shareRateLimits(entries: RateLimitEntry[], signal: AbortSignal): Promise<void> {
    if (entries.length > 0 && !this.finished) await (await this.online()).shareRateLimits(entries, signal);
  }

  async orderSlot(issuer: Issuer, signal: AbortSignal): Promise<FleetSlot | null> {
    return this.finished ? null : (await this.online()).orderSlot(issuer.id, signal);
  }

  takeWarnings(): string[] {
    return this.warnings.take();
  }

  /**
   * Sends the spool, the run's events (a healthy run has none) and its status when it changed or a heartbeat is due,
   * then lets the connection go; a run with nothing new connects to nothing. Never throws.
   */
  async publish(status: StatusReport, _report: RunReport, signal: AbortSignal): Promise<{ detail: string; warnings?: string[] }> {
    const events = this.events.take();
    const now = this.now();
    try {
      const digest = statusDigest(status, reportDestination(this.settings));
      const last = await this.lastReport.read();
      if (!mustReport({ telling: events.length > 0, spooled: await this.spool.holdsAny(), status, digest, last, now }))
        return { detail: `nothing new since the report of ${last!.reportedAt}: not sent`, warnings: this.warnings.take() };
      const report = statusMessage(this.settings, status, now);
      const messages = [...events, report];
      // With no record (a first report, or one lost) parts of an earlier status may be in the bucket: look once.
      const partsMayRemain = !last || last.parts === true;
      // A record that says no parts must say otherwise before any is written: this run may die before its head.
      const partsStarting = partsMayRemain ? undefined : () => this.lastReport.markParts(last!);
      const outgoing = { messages, partsMayRemain, partsStarting };
      const { sent, unsent, dropped, partsRemain } = await (await this.online()).send(this.spool, outgoing, signal);
      if (!unsent.includes(report) && !dropped.includes(report)) await this.remember(digest, now, partsRemain);
      const sentText = `${sent} messages sent`;
      return { detail: unsent.length === 0 ? sentText : `${sentText}, ${unsent.length} spooled to ${this.spool.file}`, warnings: this.warnings.take() };
    } catch (error) {
      return { detail: 'failed', warnings: [...this.warnings.take(), `the fleet spool ${this.spool.file}: ${(error as Error).message}`] };
    } finally {
      this.finished = true;
      await this.session?.then((s) => s.finish());
    }
  }

  async view(signal: AbortSignal): Promise<FleetView> {
    const { readFleetView } = await import('./fleet-view.js');
    return readFleetView(this.settings, this.now, signal);
  }

  /** The run's session with NATS, made (and its module loaded) at the first call that needs one. */
  private online(): Promise<FleetSession> {
    this.session ??= import('./fleet-session.js').then(({ FleetSession }) => new FleetSession(this.settings, this.warnings, this.now, this.deps.elapsed));
    return this.session;
  }

  private async remember(digest: string, at: Date, parts: boolean): Promise<void> {
    await this.lastReport.write(digest, at, parts).catch((error: unknown) => {
      this.warnings.add(`the record ${this.lastReport.file} cannot be written (${(error as Error).message}): the next run reports again`);
    });
  }
}
