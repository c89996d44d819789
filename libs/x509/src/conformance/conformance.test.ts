import { describe, expect, it } from 'vitest';
import { certsmithVerdict } from './certsmith-verdict.js';
import { loadCorpus } from './corpus.js';
import { outOfScope } from './scope.js';

const cases = loadCorpus();
const inScope = cases.filter((c) => outOfScope(c) === null);

describe('x509-limbo conformance (libs/x509/conformance, docs/conformance.md)', () => {
  it('reads the whole corpus and keeps most of it in scope', () => {
    expect(cases).toHaveLength(207);
    expect(inScope.length).toBeGreaterThanOrEqual(147);
  });

  it.each(inScope.map((c) => [c.id, c] as const))('%s', async (_id, testcase) => {
    const verdict = await certsmithVerdict(testcase);
    const said = verdict.accepted ? 'SUCCESS' : `FAILURE (${verdict.refusals.map((d) => d.code).join(', ')})`;
    expect(said.startsWith(testcase.expected_result), `${testcase.description.split('\n')[0]}\ncertsmith: ${said}`).toBe(true);
  });
});
