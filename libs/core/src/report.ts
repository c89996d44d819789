import type { Bus, FailedEvent, InspectEvent, InstalledEvent, IssuedEvent, LifecycleEventName, LifecycleEvents, ValidatedEvent } from './events.js';
import { LIFECYCLE_EVENTS } from './events.js';

/** How a target ended. */
export type TargetResult =
  | 'healthy' // nothing needed replacing
  | 'replaced' // a new certificate was installed where needed
  | 'pending' // the CA is still working on an order; it is resumed next run
  | 'kept' // a replacement was wanted but not possible; the current certificate still works
  | 'unmanaged' // disable_service_certificate_management: inspected only
  | 'planned' // --dry-run: what would have been done
  | 'skipped' // another run holds this target's lock
  | 'interrupted' // SIGINT/SIGTERM stopped the run before this target was done; nothing is left half-installed
  | 'failed'; // a service is left with a defective certificate

export interface ServiceReport {
  service: string;
  inspect?: InspectEvent;
  installed?: InstalledEvent;
  /** A new certificate was written and then taken back (reload or live proof failed): the previous files are in place. */
  rolledBack?: boolean;
  failures: FailedEvent[];
}

export interface TargetReport {
  target: string;
  names: string[];
  result: TargetResult;
  services: ServiceReport[];
  issued?: IssuedEvent;
  validations: ValidatedEvent[];
  /** Failures not tied to one service (issuer, DCV, ...). */
  failures: FailedEvent[];
  /** What the run did or would do, in words. */
  actions: string[];
}

export interface RunReport {
  hostname: string;
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  targets: TargetReport[];
  /** 0 all healthy or fixed, 1 some target failed. (2 is for usage errors, which never get a report.) */
  exitCode: 0 | 1;
  /** Where the run's event log was written, when it was. */
  logFile?: string;
  /** The signal that stopped the run (SIGINT, SIGTERM), when one did. */
  interrupted?: string;
}

/** Builds the run report from the bus, so that the report says exactly what the events said. */
export class RunReportCollector {
  private readonly targets = new Map<string, TargetReport>();

  constructor(bus: Bus) {
    bus.on('inspect', (e) => {
      this.service(e.target, e.service).inspect = e;
    });
    bus.on('installed', (e) => {
      this.service(e.target, e.service).installed = e;
    });
    bus.on('issued', (e) => {
      this.target(e.target).issued = e;
    });
    bus.on('validated', (e) => {
      this.target(e.target).validations.push(e);
    });
    bus.on('failed', (e) => {
      if (e.service) {
        const service = this.service(e.target, e.service);
        service.failures.push(e);
        if (e.rolledBack) service.rolledBack = true;
      } else this.target(e.target).failures.push(e);
    });
  }

  /** Registers a target before its events arrive, so that the report keeps the run's order. */
  begin(target: string, names: string[]): void {
    this.target(target).names = names;
  }

  conclude(target: string, result: TargetResult, actions: string[]): void {
    const report = this.target(target);
    report.result = result;
    report.actions.push(...actions);
  }

  finish(meta: { hostname: string; startedAt: Date; finishedAt: Date; dryRun: boolean; interrupted?: string }): RunReport {
    const targets = [...this.targets.values()];
    return {
      hostname: meta.hostname,
      startedAt: meta.startedAt.toISOString(),
      finishedAt: meta.finishedAt.toISOString(),
      dryRun: meta.dryRun,
      targets,
      exitCode: targets.some((t) => t.result === 'failed') ? 1 : 0,
      ...(meta.interrupted ? { interrupted: meta.interrupted } : {}),
    };
  }

  private target(id: string): TargetReport {
    let report = this.targets.get(id);
    if (!report) {
      report = { target: id, names: [], result: 'healthy', services: [], validations: [], failures: [], actions: [] };
      this.targets.set(id, report);
    }
    return report;
  }

  private service(target: string, service: string): ServiceReport {
    const report = this.target(target);
    let entry = report.services.find((s) => s.service === service);
    if (!entry) {
      entry = { service, failures: [] };
      report.services.push(entry);
    }
    return entry;
  }
}

/** Every warning and error of a run, per service, for notifiers. */
export function warningsByService(report: RunReport): Map<string, FailedEvent[]> {
  const out = new Map<string, FailedEvent[]>();
  for (const target of report.targets) {
    for (const service of target.services) {
      const defects = (service.inspect?.defects ?? []).filter((d) => d.severity !== 'info');
      const items: FailedEvent[] = [
        ...defects.map((d): FailedEvent => ({
          stage: 'inspect',
          target: target.target,
          service: service.service,
          code: d.code,
          message: d.message,
          next: service.inspect?.action === 'keep' ? 'keep' : 'replace',
          severity: 'warning',
        })),
        ...service.failures,
      ];
      if (items.length) out.set(service.service, [...(out.get(service.service) ?? []), ...items]);
    }
    for (const failure of target.failures) {
      const key = failure.service ?? `target ${target.target}`;
      out.set(key, [...(out.get(key) ?? []), failure]);
    }
  }
  return out;
}

/** Subscribes to every lifecycle event with one handler (JSON logs, test recorders). */
export function onEveryEvent(bus: Bus, handler: <K extends LifecycleEventName>(type: K, event: LifecycleEvents[K]) => void): void {
  for (const type of LIFECYCLE_EVENTS) bus.on(type, (event) => handler(type, event as never));
}
