import type { StatusReport } from '@certsmith/core';
import { flag, unixSeconds, type GaugeDeclarer } from './gauges.js';

/** One series per target and service: what its installed certificate is and whether it is due. */
export function recordCertificates(gauge: GaugeDeclarer, status: StatusReport): void {
  const notAfter = gauge('certificate_not_after_timestamp_seconds', "When the service's installed certificate expires (Unix seconds).", [
    'target',
    'service',
    'issuer',
  ]);
  const daysLeft = gauge('certificate_days_left', 'Whole days until the installed certificate expires, as certsmith status counts them.', [
    'target',
    'service',
  ]);
  const due = gauge('certificate_renewal_due', '1 when the certificate is due for renewal now, by the rule in the label; else 0.', [
    'target',
    'service',
    'rule',
  ]);
  const dueAt = gauge('certificate_renewal_due_timestamp_seconds', 'When the certificate is or was due for renewal (Unix seconds), by the rule in the label.', [
    'target',
    'service',
    'rule',
  ]);
  const selfSigned = gauge('certificate_self_signed', '1 when the installed certificate is self-signed; else 0.', ['target', 'service']);
  const missing = gauge('certificate_missing_names', "How many of the target's names the installed certificate does not cover.", ['target', 'service']);
  for (const target of status.targets) {
    for (const service of target.services) {
      const at = { target: target.target, service: service.service };
      const rule = { ...at, rule: service.renewal.rule };
      due.set(rule, flag(service.renewal.due));
      if (service.renewal.dueAt) dueAt.set(rule, unixSeconds(service.renewal.dueAt));
      missing.set(at, service.missingNames.length);
      const certificate = service.certificate;
      if (!certificate) continue;
      notAfter.set({ ...at, issuer: certificate.issuer }, unixSeconds(certificate.notAfter));
      if (service.daysLeft !== null) daysLeft.set(at, service.daysLeft);
      selfSigned.set(at, flag(certificate.selfSigned));
    }
  }
}
