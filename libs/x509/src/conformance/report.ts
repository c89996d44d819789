import { certsmithVerdict } from './certsmith-verdict.js';
import type { LimboCase } from './corpus.js';
import { opensslVerdict } from './openssl-verdict.js';
import { outOfScope } from './scope.js';

export interface ConformanceReport {
  inScope: number;
  certsmithRight: number;
  opensslRight: number;
  /** Cases certsmith gets wrong, with what it said. */
  certsmithWrong: { id: string; expected: LimboCase['expected_result']; refusals: string[] }[];
  opensslWrong: string[];
  outOfScope: Map<string, number>;
}

/** Runs every case through certsmith and through the openssl binary, one case at a time. */
export async function conformanceReport(cases: LimboCase[], openssl = 'openssl'): Promise<ConformanceReport> {
  const report: ConformanceReport = { inScope: 0, certsmithRight: 0, opensslRight: 0, certsmithWrong: [], opensslWrong: [], outOfScope: new Map() };
  for (const testcase of cases) {
    const reason = outOfScope(testcase);
    if (reason) {
      report.outOfScope.set(reason, (report.outOfScope.get(reason) ?? 0) + 1);
      continue;
    }
    report.inScope++;
    const expected = testcase.expected_result === 'SUCCESS';
    const ours = await certsmithVerdict(testcase);
    if (ours.accepted === expected) report.certsmithRight++;
    else report.certsmithWrong.push({ id: testcase.id, expected: testcase.expected_result, refusals: ours.refusals.map((d) => d.code) });
    if ((await opensslVerdict(testcase, openssl)).accepted === expected) report.opensslRight++;
    else report.opensslWrong.push(testcase.id);
  }
  return report;
}

export function markdownTable(report: ConformanceReport): string {
  const lines = [
    '| | cases |',
    '| --- | ---: |',
    `| in scope | ${report.inScope} |`,
    `| certsmith right | ${report.certsmithRight} |`,
    `| \`openssl verify -x509_strict -purpose sslserver\` right | ${report.opensslRight} |`,
    ...[...report.outOfScope].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `| out of scope: ${reason} | ${count} |`),
  ];
  return lines.join('\n');
}
