// The renewal benchmark's own check (no timed assertion): certsmith renews N=2 targets against a fresh Pebble, both
// certificates are counted; a missing one, one that does not cover its names and one that does not chain to
// Pebble's root are not.
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '@certsmith/testlab';
import { countCertificates, renewalTable, runRenewal, type RenewalResult, type RenewalRun } from './renewal.js';

let renewal: RenewalRun;
beforeAll(async () => {
  renewal = await runRenewal('certsmith', 2, { keep: true });
}, 180_000);
afterAll(() => renewal?.cleanup());

describe('renewal benchmark, certsmith, N=2', () => {
  it("counts both certificates: one Pebble order each, every name covered, chained to Pebble's root", async () => {
    expect(renewal.result.failures).toEqual([]);
    expect(renewal.result.counted).toBe(2);
    expect(renewal.result.pebbleOrders).toBe(2);
    expect(renewal.result.invocations).toBe(1);
    expect(renewal.result.maxRssKb).toBeGreaterThan(0);
    expect(renewal.result.cpuMs).toBeGreaterThan(0);
    expect(renewalTable([renewal.result])).toMatch(/^\| certsmith \| 2 \| 2\/2 \|/m);
    expect(await countCertificates(renewal.certs, renewal.rootFile)).toEqual({ counted: 2, rejected: [] });
  });

  it('does not count a missing certificate, one that misses a name, or one that does not chain to the root', async () => {
    const [a, b] = renewal.certs as [(typeof renewal.certs)[0], (typeof renewal.certs)[0]];
    // b's valid certificate stands in for a: it chains, but does not cover a's names.
    const kept = join(renewal.dir, 'kept.pem');
    await copyFile(b.leafFile, kept);
    const wrongNames = { ...a, leafFile: kept, chainFile: b.chainFile };
    const stranger = await selfSignedCert(renewal.dir, 'stranger', { san: a.names });
    const notChained = { ...a, leafFile: stranger.certFile };
    await rm(b.leafFile);
    const { counted, rejected } = await countCertificates([b, wrongNames, notChained], renewal.rootFile);
    expect(counted).toBe(0);
    expect(rejected[0]).toBe(`${b.leafFile}: missing`);
    expect(rejected[1]).toContain(`does not cover ${a.names.join(', ')}`);
    expect(rejected[2]).toContain('openssl verify failed');
    // A file that is not a certificate at all.
    await writeFile(b.leafFile, 'not a certificate\n');
    expect((await countCertificates([b], renewal.rootFile)).counted).toBe(0);
    await writeFile(b.leafFile, await readFile(kept, 'utf8'));
    expect((await countCertificates([a, b], renewal.rootFile)).counted).toBe(2);
  });
});

describe('renewal table', () => {
  const run = (tool: RenewalResult['tool'], cpuMs: number, wallMs: number, counted = 50, load = { start: 0.5, end: 0.75 }): RenewalResult => ({
    tool,
    n: 50,
    counted,
    wallMs,
    cpuMs,
    maxRssKb: 80_000,
    invocations: tool === 'certsmith' ? 1 : 50,
    failures: [],
    pebbleOrders: 50,
    load,
  });

  it("adds the median of each tool's runs and takes the ratios between medians, each with the load average of its runs", () => {
    const table = renewalTable([
      run('certsmith', 2_600, 4_000),
      run('lego', 5_000, 1_000_000, 50, { start: 0.1, end: 0.2 }),
      run('certsmith', 2_000, 3_000, 49, { start: 1.25, end: 2 }),
      run('certsmith', 3_000, 5_000),
    ]);
    expect(table).toContain('| certsmith | 50 | 50/50 | 4.00 s | 80 ms | 2.60 s | 52 ms | 78 MB | 1 | 50 | 0.50→0.75 |');
    expect(table).toContain('| lego | 50 | 50/50 | 1000.0 s | 20.0 s | 5.00 s | 100 ms | 78 MB | 50 | 50 | 0.10→0.20 |');
    expect(table).toContain('| **certsmith, median of 3** | 50 | 49/50 | 4.00 s | 80 ms | 2.60 s | 52 ms | 78 MB | 1 | 50 | 0.50–2.00 over 3 runs |');
    expect(table).not.toContain('lego, median');
    expect(table).toContain('| 50 | certsmith / lego | 0.004 (1/250.0) | 0.520 | 1.00 | 0.10–2.00 over 4 runs |');
  });
});
