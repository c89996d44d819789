// Benchmark: certsmith's IterativeResolver against Debian's Unbound, both iterating from the same lab root
// (BIND on loopback), 1,000 distinct names (A and AAAA each), cold caches, same concurrency, one run.
// Prints a table and the ratio (aim: certsmith within 1.5x of Unbound). Needs root (BIND on port 53).
//   npm run bench -w @certsmith/bench -- resolve [--names 1000] [--rounds 4] [--concurrency 50]
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { IterativeResolver, acceptResponse, encodeQuery } from '@certsmith/dns';
import { startDnsLab, startUnbound, type DnsLab } from '@certsmith/testlab';
import { formatLoad, LOAD_HEADER, withLoad, type LoadSpan } from './report.js';

export interface ResolveBenchOptions {
  names: number;
  /** Names in flight at once, for both resolvers. */
  concurrency: number;
  rounds: number;
}

export interface ResolveBenchRow {
  resolver: string;
  round: number;
  names: number;
  /** The 1-minute load average at the start and end of the round's run; absent in tables made by hand. */
  load?: LoadSpan;
  ok: number;
  ms: number;
  /** UDP/TCP queries the resolver sent to the lab's servers (certsmith) or that we sent to Unbound. */
  queries: string;
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** One recursive (RD=1) question to Unbound over UDP; true when it answers NOERROR with an address. */
function askRecursive(server: string, name: string, type: 'A' | 'AAAA'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const query = encodeQuery(name, type);
    query.bytes[2]! |= 0x01; // RD: Unbound recurses for us
    const timer = setTimeout(() => done(false), 5_000);
    function done(ok: boolean) {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    }
    socket.on('message', (msg) => {
      const response = acceptResponse(msg, query);
      if (typeof response === 'string') return;
      done(response.rcode === 'NOERROR' && response.answers.some((a) => a.type === type));
    });
    socket.on('error', () => done(false));
    socket.send(query.bytes, 53, server);
  });
}

export async function benchResolve(options: ResolveBenchOptions = { names: 1_000, concurrency: 50, rounds: 2 }): Promise<ResolveBenchRow[]> {
  const lab = await startDnsLab();
  const rows: ResolveBenchRow[] = [];
  try {
    // Rounds alternate who goes first, each with a fresh resolver and a fresh Unbound (cold caches), so that
    // neither profits from the other having warmed BIND, and the machine's noise shows in the table.
    // BIND answers its first few hundred queries after a start more slowly: warm it up, uncounted.
    const warm = new IterativeResolver({ rootHints: lab.rootHints, concurrency: 256 });
    await pool(namesFor('warm', 300), options.concurrency, async (name) => void (await warm.resolveAddresses(name, AbortSignal.timeout(30_000))));
    for (let round = 0; round < options.rounds; round++) {
      const contenders = [() => runOurs(lab, options, round), () => runUnbound(lab, options, round)];
      if (round % 2 === 1) contenders.reverse();
      for (const run of contenders) {
        const { value, load } = await withLoad(run);
        rows.push({ ...value, load });
      }
    }
  } finally {
    await lab.stop();
  }
  return rows;
}

/** Distinct names under bench.test's wildcard: every one exists and none is cached before it is asked. */
function namesFor(prefix: string, count: number): string[] {
  const run = `${prefix}${Date.now().toString(36)}`;
  return Array.from({ length: count }, (_, i) => `n${i}.${run}.bench.test`);
}

async function runOurs(lab: DnsLab, options: ResolveBenchOptions, round: number): Promise<ResolveBenchRow> {
  const resolver = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 2_000, retries: 1, concurrency: 256 });
  let ok = 0;
  const t0 = performance.now();
  await pool(namesFor(`c${round}`, options.names), options.concurrency, async (name) => {
    const r = await resolver.resolveAddresses(name, AbortSignal.timeout(30_000));
    if (r.outcome === 'ok' && r.addresses.length === 2) ok++;
  });
  const ms = performance.now() - t0;
  return {
    resolver: 'certsmith IterativeResolver',
    round,
    names: options.names,
    ok,
    ms,
    queries: `${resolver.stats.udp} UDP + ${resolver.stats.tcp} TCP to the lab`,
  };
}

async function runUnbound(lab: DnsLab, options: ResolveBenchOptions, round: number): Promise<ResolveBenchRow> {
  const unbound = await startUnbound({ rootHintsFile: lab.rootHintsFile, cacheMaxTtl: 300 });
  try {
    let ok = 0;
    const t0 = performance.now();
    await pool(namesFor(`u${round}`, options.names), options.concurrency, async (name) => {
      const [six, four] = await Promise.all([askRecursive(unbound.address, name, 'AAAA'), askRecursive(unbound.address, name, 'A')]);
      if (six && four) ok++;
    });
    const ms = performance.now() - t0;
    return { resolver: 'Unbound 1.17 (recursive)', round, names: options.names, ok, ms, queries: `${options.names * 2} UDP to Unbound` };
  } finally {
    await unbound.stop();
  }
}

export function printResolveTable(rows: ResolveBenchRow[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  out(`Resolve ${rows[0]?.names ?? 0} distinct names (A + AAAA each) from the lab root, cold caches`);
  out(`| round | resolver | names ok | time (ms) | names/s | traffic | ${LOAD_HEADER} |`);
  out('| ---: | --- | ---: | ---: | ---: | --- | --- |');
  for (const r of rows)
    out(
      `| ${r.round + 1} | ${r.resolver} | ${r.ok}/${r.names} | ${r.ms.toFixed(0)} | ${((r.names / r.ms) * 1000).toFixed(0)} | ${r.queries} | ${r.load ? formatLoad(r.load) : '—'} |`,
    );
  const times = (prefix: string) =>
    rows
      .filter((r) => r.resolver.startsWith(prefix))
      .map((r) => r.ms)
      .sort((a, b) => a - b);
  const median = (xs: number[]) => (xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2);
  const [ours, theirs] = [times('certsmith'), times('Unbound')];
  out(
    `best: certsmith ${ours[0]!.toFixed(0)} ms, Unbound ${theirs[0]!.toFixed(0)} ms, ratio ${(ours[0]! / theirs[0]!).toFixed(2)}x; ` +
      `median: certsmith ${median(ours).toFixed(0)} ms, Unbound ${median(theirs).toFixed(0)} ms, ratio ${(median(ours) / median(theirs)).toFixed(2)}x (aim: <= 1.5x)`,
  );
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

export async function main(args: string[]): Promise<void> {
  const options = { names: option(args, 'names', 1_000), rounds: option(args, 'rounds', 4), concurrency: option(args, 'concurrency', 50) };
  printResolveTable(await benchResolve(options));
}
