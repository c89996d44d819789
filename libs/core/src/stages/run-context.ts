import { join } from 'node:path';
import type { CertsmithConfig } from '../config/config.js';
import type { Clock, CsrFactory, DcvMethod, FleetLink, Inspector, Installer, Issuer, Resolver, Scheduler } from '../contracts.js';
import type { Bus, FailedEvent } from '../events.js';
import { DEFAULT_ORDERS_IN_FLIGHT, OrderGate } from '../order-gate.js';
import { RateLimitLedger } from '../rate-limits.js';
import { RenewalAdvisor } from '../renewal-advice.js';
import { relayOf } from '../signal-relay.js';
import type { RunReportCollector } from '../report.js';
import type { Switches } from '../switches.js';
import type { Target } from '../model.js';

export interface RunOptions {
  dryRun: boolean;
  /** Schedule one re-run later when an order is still pending (`--allow-retry`). */
  allowRetry: boolean;
  /** The command that the retry runs. */
  retryCommand: string[];
  /** Targets checked at once. */
  concurrency: number;
  signal: AbortSignal;
  /** Called when a target is finished, e.g. to print its block of the log. */
  onTargetDone?: (target: string) => void;
}

export interface PipelineDeps {
  config: CertsmithConfig;
  switches: Switches;
  bus: Bus;
  clock: Clock;
  inspector: Inspector;
  csrFactory: CsrFactory;
  issuers: Issuer[];
  installers: Installer[];
  dcv: DcvMethod[];
  scheduler?: Scheduler;
  report: RunReportCollector;
  /** For the CAA step of the pre-order proof (when it offers lookupCaa). */
  resolver?: Resolver;
  /** What this host shares with a fleet (rate limits, a bound on orders in flight); absent: the host is alone. */
  fleet?: FleetLink;
}

/** What every stage of a run shares: the dependencies, and what is read or compiled once per run rather than per target. */
export class RunContext {
  readonly advisor: RenewalAdvisor;

  /** The config's provider matchers, compiled once per run rather than once per target (10,000 targets on the healthy path). */
  readonly providerPatterns: RegExp[];

  /** The CAs' rate limits, so a run does not ask again before the CA said it may (read once per run). */
  readonly rateLimits: RateLimitLedger;

  /** One gate per issuer: the CA sees no more orders at once than the issuer allows, whatever the run's concurrency. */
  private readonly orderGates = new Map<string, OrderGate>();

  constructor(readonly deps: PipelineDeps) {
    this.providerPatterns = deps.config.inspection.providerIssuerPatterns.map((p) => new RegExp(p, 'i'));
    this.rateLimits = new RateLimitLedger(join(deps.config.paths.stateDir, 'rate-limits.json'), () => deps.clock.now());
    this.advisor = new RenewalAdvisor(() => deps.clock.now());
  }

  /**
   * Runs one order's work (placing or resuming it) within the issuer's bound on orders in flight: this host's own,
   * then the fleet's slot when there is a fleet. The fleet's slot is asked for only once the host's own place is held,
   * so a host never holds fleet slots for orders it is not yet placing.
   */
  async throughOrderGates<T>(issuer: Issuer, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    let gate = this.orderGates.get(issuer.id);
    if (!gate) this.orderGates.set(issuer.id, (gate = new OrderGate(issuer.ordersInFlight ?? DEFAULT_ORDERS_IN_FLIGHT)));
    const fleet = this.deps.fleet;
    if (!fleet) return gate.through(work);
    return gate.through(async () => {
      // The fleet's waits listen on a relay: one listener on the run's signal per order, whatever the link adds.
      const relay = relayOf(signal);
      try {
        const slot = await fleet.orderSlot(issuer, relay.signal);
        try {
          return await work();
        } finally {
          await slot?.release();
        }
      } finally {
        relay.release();
      }
    });
  }

  /** The configured issuer ids, in order, minus CA issuers where a switch forbids them. */
  issuerChain(target: Target): Issuer[] {
    const chain: Issuer[] = [];
    for (const id of this.deps.config.issuers) {
      const issuer = this.deps.issuers.find((i) => i.id === id);
      if (!issuer) continue; // checked by the composition root before the run
      if (issuer.trusted && target.kind === 'hostname' && this.deps.switches.noHostnameCertificate) continue;
      chain.push(issuer);
    }
    return chain;
  }

  fail(event: FailedEvent): void {
    this.deps.bus.emit('failed', event);
  }
}
