import type { Defect, InspectContext, ServiceMaterial } from '@certsmith/core';
import { CertificateInspector } from '../inspector.js';
import { TrustStore } from '../trust-store.js';
import { peerNames, validationTime, type LimboCase } from './corpus.js';

export interface CaseVerdict {
  accepted: boolean;
  /** The defects that made certsmith refuse it (empty when accepted). */
  refusals: Defect[];
}

/**
 * Severities that mean "this certificate must go": what `check` would act on. Warnings and info (no live probe,
 * no revocation here) never decide.
 */
const REFUSING = new Set<Defect['severity']>(['replace', 'upgrade']);
/** Renewal timing, not validity: a certificate in its last second is valid, and also due for renewal. */
const TIMING = new Set(['ALMOST_EXPIRED', 'CA_CERTIFICATE_ALMOST_EXPIRED']);

/**
 * Inspects a case as `check` inspects a service: the peer certificate is the service's certificate file, the
 * untrusted intermediates its CA bundle, the trusted certificates its trust store, `now` the validation time and
 * the expected peer names the target's names. No key file (the corpus has none), no network. Accepted: no defect of
 * severity replace or upgrade other than renewal timing (thresholds 0 days, and ALMOST_EXPIRED ignored): the corpus
 * asks whether the certificate is valid at that instant, not whether it is time to renew it. A CA is configured, so
 * a chain that does not verify is an `upgrade` defect, not a warning.
 */
export async function certsmithVerdict(testcase: LimboCase): Promise<CaseVerdict> {
  const trustStore = new TrustStore({ pems: testcase.trusted_certs });
  const inspector = new CertificateInspector(undefined, undefined, { trustStore, revocation: null });
  const sources: ServiceMaterial['sources'] = [{ path: '/limbo/service.crt', role: 'certificate', bytes: Buffer.from(testcase.peer_certificate) }];
  if (testcase.untrusted_intermediates.length) {
    sources.push({ path: '/limbo/service.cabundle', role: 'chain', bytes: Buffer.from(testcase.untrusted_intermediates.join('\n')) });
  }
  const ctx: InspectContext = {
    target: { id: testcase.id, names: peerNames(testcase), services: ['limbo'], kind: 'hostname' },
    now: validationTime(testcase),
    policy: { providerIssuerPatterns: [], providerThresholdDays: 0, otherThresholdDays: 0, caConfigured: true, live: false },
    signal: AbortSignal.timeout(60_000),
  };
  const inspection = await inspector.inspect({ service: 'limbo', sources, endpoints: [] }, ctx);
  const refusals = inspection.defects.filter((d) => (REFUSING.has(d.severity) && !TIMING.has(d.code)) || d.code === 'INSPECTION_FAILED');
  return { accepted: refusals.length === 0, refusals };
}
