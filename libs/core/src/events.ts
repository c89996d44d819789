import mittImport, { type Emitter } from 'mitt';
import type { CertificateSummary, Defect, ServiceId } from './model.js';
import type { AuthorizationReport } from './pending-report.js';

/** Where an inspected certificate was read: its files, and the live handshake when one was made. */
export interface InspectEvent {
  target: string;
  service: ServiceId;
  files: string[];
  live: LiveObservation[];
  summary: CertificateSummary | null;
  chain: CertificateSummary[];
  defects: Defect[];
  /** Status in cPanel's words. */
  status: 'OK' | 'Defective' | 'Ready for Renewal' | 'Incomplete';
  /** Whether the pipeline will try to replace it, and why not when it will not. */
  action: 'keep' | 'replace' | 'upgrade';
  providerIssued: boolean;
}

export interface LiveObservation {
  endpoint: string;
  ok: boolean;
  fingerprint?: string;
  error?: string;
}

export interface DcvCreatedEvent {
  target: string;
  name: string;
  method: string;
  /** Where it was published: a URL, a file path, or a DNS owner name. */
  where: string;
  purpose: 'precheck' | 'challenge';
}

export interface DnsResolvedEvent {
  name: string;
  addresses: string[];
  /** Servers asked and referrals taken, from the root down. */
  path: string[];
  chosen: string | null;
}

export interface ValidatedEvent {
  target: string;
  name: string;
  ok: boolean;
  method: string;
  /** What the name was proved over, for a DCV verdict: an HTTP fetch or a DNS answer. */
  over?: 'http' | 'dns';
  /** The ancestor whose record covered this name, for DNS DCV. */
  via?: string;
  reason?: string;
  /** The verdict's stable code (a failure's, e.g. DCV_HTTP_NOT_FOUND or AAAA_UNREACHABLE). */
  code?: string;
  /** Findings on a name that still passed (AAAA_UNREACHABLE when the CA falls back to the A address). */
  warnings?: { code: string; message: string }[];
}

export type IssuedEvent =
  | {
      target: string;
      issuer: string;
      status: 'issued';
      summary: CertificateSummary;
      chain: CertificateSummary[];
      selfSigned: boolean;
      /** The CA's profile it was issued under (ACME profiles), when the issuer says. */
      profile?: string;
    }
  | {
      target: string;
      issuer: string;
      status: 'pending';
      order: string;
      detail?: string;
      /** When the order was placed, its status at the CA, each name's authorization and how long it has been so. */
      createdAt?: string;
      orderStatus?: string;
      authorizations?: AuthorizationReport[];
      /** Which names hold the order, e.g. `www.a.test (processing for 2d 3h), mail.a.test (pending for 2d 3h)`. */
      heldBy?: string;
    };

export interface InstalledEvent {
  target: string;
  service: ServiceId;
  files: string[];
  reloaded: boolean;
  /** Fingerprint seen live after reload, when the service has endpoints. */
  live: LiveObservation[];
  dryRun: boolean;
}

export type Stage = 'config' | 'inspect' | 'dcv' | 'dns' | 'validate' | 'issue' | 'install' | 'schedule' | 'notify' | 'fleet';

export interface FailedEvent {
  stage: Stage;
  target: string;
  service?: ServiceId;
  name?: string;
  issuer?: string;
  code: string;
  message: string;
  /** What the run does next: 'next issuer', 'self-signed fallback', 'keep current certificate', ... */
  next: string;
  severity: 'error' | 'warning';
  /** A rate limit: when the run will ask that issuer again (ISO 8601). */
  until?: string;
  /** An install that was attempted and undone (or refused): the service keeps what it had before. */
  rolledBack?: boolean;
}

/** The lifecycle, named once. Stages emit; plugins and sinks listen. */
export type LifecycleEvents = {
  inspect: InspectEvent;
  'dcv-created': DcvCreatedEvent;
  'dns-resolved': DnsResolvedEvent;
  validated: ValidatedEvent;
  issued: IssuedEvent;
  installed: InstalledEvent;
  failed: FailedEvent;
};

export type LifecycleEventName = keyof LifecycleEvents;

// mitt ships CommonJS typings for an ES module: its default export is the function itself at run time.
const mitt = mittImport as unknown as typeof mittImport.default;
export const LIFECYCLE_EVENTS: readonly LifecycleEventName[] = ['inspect', 'dcv-created', 'dns-resolved', 'validated', 'issued', 'installed', 'failed'];

export type Bus = Emitter<LifecycleEvents>;

/**
 * A bus whose listeners cannot break the run: a listener that throws is reported on stderr once
 * and the stage goes on (a broken mail or metrics plugin must not stop a renewal).
 */
export function createBus(onListenerError: (event: string, error: unknown) => void = defaultListenerError): Bus {
  const bus = mitt<LifecycleEvents>();
  bus.emit = ((type: LifecycleEventName, event: unknown) => {
    const handlers = bus.all.get(type) ?? [];
    const star = bus.all.get('*') ?? [];
    for (const handler of [...handlers]) {
      try {
        (handler as (e: unknown) => void)(event);
      } catch (error) {
        onListenerError(type, error);
      }
    }
    for (const handler of [...star]) {
      try {
        (handler as (t: unknown, e: unknown) => void)(type, event);
      } catch (error) {
        onListenerError(type, error);
      }
    }
  }) as Bus['emit'];
  return bus;
}

function defaultListenerError(event: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`certsmith: a listener of "${event}" failed: ${message}\n`);
}
