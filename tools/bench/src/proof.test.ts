// The proof's tally (no lab: the lab's own test, tools/testlab/src/proof-lab.test.ts, checks that each fault is built):
// agreement is the pre-check's verdict against the CA's, and every disagreement is named as a false drop or pass.
import { describe, expect, it } from 'vitest';
import { proofTables, type ProofRow } from './proof.js';

const row = (kind: string, name: string, pass: boolean, caIssued: boolean): ProofRow => ({
  kind,
  name,
  world: 'web',
  fault: 'f',
  challenge: 'http-01',
  precheck: { pass, why: pass ? '' : 'CODE: why' },
  pebble: { issued: caIssued, why: caIssued ? '' : 'refused' },
  double: { issued: caIssued, why: caIssued ? '' : 'refused' },
  caIssued,
  agreed: pass === caIssued,
});

describe('proofTables', () => {
  it('scores agreement and names each false drop and false pass', () => {
    const rows = [
      row('control', 'a.test', true, true),
      row('404', 'b.test', false, false),
      row('redirect', 'c.test', false, true),
      row('CAA forbids', 'd.test', true, false),
    ];
    const text = proofTables(rows, { start: 1, end: 2 }, 'none');
    expect(text).toContain('| 50.0 % (2/4) | 4 | 3 | 1 | 1 | 1.00→2.00 |');
    expect(text).toContain('false drops (the pre-check dropped a name the CA validated): c.test (redirect)\n');
    expect(text).toMatch(/false passes \(the pre-check passed a name the CA refused\): d\.test \(CAA forbids\)$/);
    expect(text).toContain('| 404 | 1 | 0 | 0 | 1/1 |');
    expect(text).toContain('| redirect | c.test | f | drop: CODE: why | issued | issued | issued | **no** |');
  });

  it('says none when the pre-check predicted every verdict', () => {
    const text = proofTables([row('control', 'a.test', true, true), row('404', 'b.test', false, false)], { start: 0, end: 0 }, 'acme');
    expect(text).toContain('| 100.0 % (2/2) |');
    expect(text).toContain('false drops (the pre-check dropped a name the CA validated): none');
    expect(text).toContain('false passes (the pre-check passed a name the CA refused): none');
  });
});
