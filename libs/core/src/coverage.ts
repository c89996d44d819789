import type { CertificateSummary, Defect } from './model.js';
import { comparableName } from './names.js';

const DAY = 86_400_000;

/** What the coverage rules read of one service's certificate. */
export interface CoveredCertificate {
  summary: CertificateSummary | null;
  defects: Defect[];
}

/**
 * The names a certificate lacks when that is the only reason to replace it (AutoSSL's rule: a certificate that covers
 * every name that can be validated now is healthy). Null when any certificate must go for another reason, or covers
 * none of the target's names: then the normal order runs.
 */
export function uncoveredOnly(certificates: CoveredCertificate[]): string[] | null {
  const names = new Set<string>();
  for (const { defects } of certificates) {
    for (const defect of defects) {
      if (defect.severity !== 'replace' && defect.severity !== 'upgrade') continue;
      // NAME_MISMATCH as 'replace' means the certificate covers none of the names (or is self-signed): order.
      if (defect.code !== 'NAME_MISMATCH' || defect.severity !== 'upgrade' || !defect.names) return null;
      for (const name of defect.names) names.add(name);
    }
  }
  return names.size > 0 ? [...names] : null;
}

/**
 * The target's names that the CA-signed certificates in place cover and an order for `orderNames` would leave out.
 * Self-signed certificates cover nothing worth keeping: any CA-signed one is better.
 */
export function namesLost(certificates: CoveredCertificate[], targetNames: string[], orderNames: string[]): string[] {
  const ordered = new Set(orderNames.map(comparableName));
  return targetNames.filter(
    (name) =>
      !ordered.has(comparableName(name)) && certificates.some(({ summary }) => summary && !summary.selfSigned && summary.names.some((n) => covers(n, name))),
  );
}

/**
 * Whether a certificate may be replaced by one covering fewer names: when it is defective otherwise (expired, revoked,
 * weak, ...: anything to replace that is not a renewal), or in its last days, when keeping it means losing every name
 * instead of a few: the last `lastDays` days (cPanel's 3), or the last quarter of its lifetime when that is shorter.
 */
export function mayShrink(certificates: CoveredCertificate[], now: Date, lastDays: number): { allowed: boolean; until?: Date } {
  let until: Date | undefined;
  for (const { summary, defects } of certificates) {
    if (defects.some((d) => d.severity === 'replace' && d.code !== 'NAME_MISMATCH' && !d.renewal)) return { allowed: true };
    if (!summary || summary.selfSigned) continue;
    const notBefore = Date.parse(summary.notBefore);
    const notAfter = Date.parse(summary.notAfter);
    const lead = Math.min(lastDays * DAY, (notAfter - notBefore) / 4);
    const from = new Date(notAfter - lead);
    if (now.getTime() >= from.getTime()) return { allowed: true };
    if (!until || from < until) until = from;
  }
  return until ? { allowed: false, until } : { allowed: true };
}

function covers(certName: string, host: string): boolean {
  const c = comparableName(certName);
  const h = comparableName(host);
  if (c === h) return true;
  if (!c.startsWith('*.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === c.slice(2);
}
