// Benchmark: what DNSSEC validation costs the iterative resolver. The testlab's signed BIND hierarchy (a signed root,
// test. and good.test holding signed names n0, n1, ...) is resolved from its root twice per round, each time by a
// fresh resolver (cold caches) over N names no earlier run asked: without validation, then with the lab's root DS as
// trust anchor, taking turns which goes first. Each name has an A record and no AAAA: validation checks the A RRset's
// signature and the NSEC proving the AAAA's absence. Distinct names per run, because verdicts over the same signature
// are remembered for the life of the process (as within one certsmith run). Aim: validation at most 2x the
// unvalidated time. Medians over rounds, the load average beside each figure.
//   npm run bench -- dnssec [--names 1000] [--rounds 3] [--concurrency 50]
import { parseArgs } from 'node:util';
import { IterativeResolver, type DsData } from '@certsmith/dns';
import { DNSSEC_LAB_ZONES, startDnssecLab, type DnssecLab } from '@certsmith/testlab';
import { formatLoad, LOAD_HEADER, withLoad, writeResults, type LoadSpan } from './report.js';

interface DnssecRow {
  validation: 'off' | 'on';
  round: number;
  names: number;
  /** Names that resolved (and, with validation, were secure). */
  ok: number;
  ms: number;
  load: LoadSpan;
}

async function resolveAll(lab: DnssecLab, trustAnchors: DsData[] | null, names: string[], concurrency: number): Promise<{ ok: number; ms: number }> {
  const resolver = new IterativeResolver({
    rootHints: lab.rootHints,
    timeoutMs: 2_000,
    retries: 1,
    concurrency: 256,
    ...(trustAnchors ? { dnssec: { trustAnchors } } : {}),
  });
  let ok = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < names.length) {
        const r = await resolver.resolveAddresses(names[next++]!, AbortSignal.timeout(30_000));
        if (r.outcome === 'ok' && (trustAnchors === null || r.dnssec === 'secure')) ok++;
      }
    }),
  );
  return { ok, ms: performance.now() - t0 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function main(args: string[]): Promise<DnssecRow[]> {
  const { values } = parseArgs({
    args,
    options: { names: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '50' } },
  });
  const [count, rounds, concurrency] = [Number(values.names), Number(values.rounds), Number(values.concurrency)];
  process.stderr.write(`dnssec: signing a hierarchy with ${count} names in ${DNSSEC_LAB_ZONES.good} ...\n`);
  const warmup = 100;
  const lab = await startDnssecLab({ names: warmup + 2 * rounds * count });
  const anchors: DsData[] = lab.trustAnchors.map((ds) => ({ ...ds, digest: Buffer.from(ds.digest, 'hex') }));
  let used = 0;
  const fresh = (n: number) => Array.from({ length: n }, () => `n${used++}.${DNSSEC_LAB_ZONES.good}`);
  const rows: DnssecRow[] = [];
  try {
    await resolveAll(lab, anchors, fresh(warmup), concurrency); // BIND's first answers after a start are slower: uncounted
    for (let round = 0; round < rounds; round++) {
      const order: ('off' | 'on')[] = round % 2 ? ['on', 'off'] : ['off', 'on'];
      for (const validation of order) {
        const names = fresh(count);
        const { value, load } = await withLoad(() => resolveAll(lab, validation === 'on' ? anchors : null, names, concurrency));
        rows.push({ validation, round, names: count, ...value, load });
      }
    }
  } finally {
    await lab.stop();
  }
  print(rows);
  await writeResults('dnssec', rows);
  return rows;
}

function print(rows: DnssecRow[]): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`\n### DNSSEC validation in the iterative resolver: ${rows[0]?.names ?? 0} signed names from the lab root, cold caches\n`);
  out(`| round | validation | names ok | time (ms) | ${LOAD_HEADER} |`);
  out('| ---: | --- | ---: | ---: | --- |');
  for (const r of rows) out(`| ${r.round + 1} | ${r.validation} | ${r.ok}/${r.names} | ${r.ms.toFixed(0)} | ${formatLoad(r.load)} |`);
  const off = median(rows.filter((r) => r.validation === 'off').map((r) => r.ms));
  const on = median(rows.filter((r) => r.validation === 'on').map((r) => r.ms));
  out(`\nmedian: ${off.toFixed(0)} ms without validation, ${on.toFixed(0)} ms with: ${(on / off).toFixed(2)}x (aim: at most 2x)`);
}
