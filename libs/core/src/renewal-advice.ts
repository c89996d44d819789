import { createHash } from 'node:crypto';
import { suggestsRenewal, type Issuer, type SuggestsRenewal } from './contracts.js';
import { describeError } from './errors.js';
import type { CertificateSummary, Defect } from './model.js';
import { ariWindowProblem, renewalByAri } from './renewal-timing.js';

type Window = { start: Date; end: Date } | null;

/**
 * ACME Renewal Information (RFC 9773) first: when a CA that issued the certificate suggests a renewal window, that
 * window, not the certificate's own lifetime, says when it is due, earlier (a mass revocation) or later (a CA that
 * wants short-lived certificates renewed at its own pace). A CA without ARI changes nothing; a window that cannot be
 * followed, or a CA that cannot be asked, leaves the lifetime rule in charge and says so.
 */
export class RenewalAdvisor {
  /** Services usually share one certificate: the CA is asked once per certificate and run. */
  private readonly windows = new Map<string, Promise<{ window: Window } | { error: string; invalid: boolean }>>();

  constructor(private readonly now: () => Date) {}

  /**
   * The defects with the renewal decision taken by ARI where a CA offers it. A certificate that must go for another
   * reason (expired, weak, revoked, ...) is returned as it was: ARI cannot keep it.
   */
  async adjust(
    chain: Issuer[],
    pemOf: () => string | undefined,
    summary: CertificateSummary | null,
    defects: Defect[],
    signal: AbortSignal,
  ): Promise<Defect[]> {
    const serious = defects.filter((d) => d.severity === 'replace' || d.severity === 'upgrade');
    if (serious.some((d) => !d.renewal)) return defects;
    let pem: string | undefined;
    for (const issuer of chain) {
      if (!issuer.trusted || !suggestsRenewal(issuer)) continue;
      // Read only when a CA can be asked: the healthy path without ARI never reads the certificate's text again.
      pem ??= pemOf();
      if (!pem) return defects;
      const answer = await this.ask(issuer, pem, signal);
      // An answer that is not a window is the CA's fault and worth a warning; a CA that cannot be reached tonight is not.
      if ('error' in answer)
        return [...defects, unusable(issuer, answer.invalid ? answer.error : `it could not be read: ${answer.error}`, answer.invalid ? 'warning' : 'info')];
      if (!answer.window) continue;
      const problem = ariWindowProblem(answer.window, summary ? new Date(summary.notAfter) : null);
      if (problem) return [...defects, unusable(issuer, problem, 'warning')];
      return this.decide(issuer, answer.window, pem, defects);
    }
    return defects;
  }

  private decide(issuer: Issuer, window: { start: Date; end: Date }, pem: string, defects: Defect[]): Defect[] {
    // A point in the window that is the same on every run for this certificate and spread across certificates.
    const spread = createHash('sha256').update(pem).digest().readUInt32BE(0) / 2 ** 32;
    const timing = renewalByAri(window, spread);
    const kept = defects.filter((d) => !d.renewal);
    if (this.now().getTime() < timing.dueAt.getTime()) return kept;
    return [
      ...kept,
      {
        code: 'ARI_RENEWAL_DUE',
        severity: 'upgrade',
        message: `the CA ("${issuer.id}") suggests renewing between ${iso(window.start)} and ${iso(window.end)} (ACME Renewal Information); due since ${iso(timing.dueAt)}`,
        renewal: { rule: 'ari', dueAt: timing.dueAt.toISOString() },
      },
    ];
  }

  private ask(issuer: Issuer & SuggestsRenewal, pem: string, signal: AbortSignal) {
    const key = `${issuer.id}\n${pem}`;
    let answer = this.windows.get(key);
    if (!answer) {
      answer = issuer.renewalWindow(pem, signal).then(
        (window) => ({ window }),
        (error: unknown) => {
          const { code, message } = describeError(error);
          return { error: message, invalid: code === 'ARI_INVALID' };
        },
      );
      this.windows.set(key, answer);
    }
    return answer;
  }
}

function unusable(issuer: Issuer, why: string, severity: 'warning' | 'info'): Defect {
  return {
    code: severity === 'warning' ? 'ARI_INVALID' : 'ARI_UNAVAILABLE',
    severity,
    message: `the renewal information (ARI) of issuer "${issuer.id}" for this certificate is unusable: ${why}; renewal follows the certificate's own lifetime`,
  };
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
