// The host's status document: what `certsmith status --json` prints and what status sinks (a fleet view, a metrics
// file) receive after every run. Read from files and state only.
import type { LastRun, LastRunTarget } from './last-run.js';
import type { CertificateSummary } from './model.js';
import type { RenewalRule } from './renewal-timing.js';

/** Why a certificate is due now or when it will be: a rule of the core's renewal timing, or what the files show. */
export interface RenewalStatus {
  due: boolean;
  /** ARI ('ari') is the CA's to say, when check asks it: status applies the lifetime and threshold rules. */
  rule: RenewalRule | 'expired' | 'not-yet-valid' | 'self-signed' | 'missing';
  /** When it is or was due (ISO 8601); null when there is no certificate to date. */
  dueAt: string | null;
  reason: string;
}

export interface ServiceStatus {
  service: string;
  /** The certificate's file, as the service's installer reads it. */
  file: string | null;
  certificate: Pick<CertificateSummary, 'subject' | 'issuer' | 'serial' | 'notBefore' | 'notAfter' | 'names' | 'selfSigned'> | null;
  /** The ACME profile it was issued under, when the run that issued it recorded one. */
  profile: string | null;
  daysLeft: number | null;
  renewal: RenewalStatus;
  /** The target's names the certificate does not cover. */
  missingNames: string[];
}

export interface PendingStatus {
  issuer: string;
  order: string;
  names: string[];
  createdAt: string;
  waitedSeconds: number;
  /** Which names (or the CA) hold the order, with how long each has been so. */
  heldBy: string;
}

export interface TargetStatus {
  target: string;
  names: string[];
  services: ServiceStatus[];
  pending: PendingStatus[];
  /** Names the last ordering run left out, with the reason; the last run's result. */
  lastRun: LastRunTarget | null;
}

export interface StatusHead {
  hostname: string;
  config: string;
  now: string;
  lastRun: LastRun['run'] | null;
}

export interface StatusReport extends StatusHead {
  targets: TargetStatus[];
}
