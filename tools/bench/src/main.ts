// The benchmarks, one file each: `npm run bench -w @certsmith/bench -- <name> [options]`.
// Each prints a table; none asserts a time (tests never do).
const BENCHMARKS: Record<string, { about: string; run: (args: string[]) => Promise<void> }> = {
  inspect: { about: 'inspect N certificate files (parse + every offline rule) beside the raw X509Certificate parse rate', run: async (args) => (await import('./inspect.js')).main(args) },
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? BENCHMARKS[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -w @certsmith/bench -- <name> [options]\n${Object.entries(BENCHMARKS).map(([n, b]) => `  ${n.padEnd(10)} ${b.about}`).join('\n')}\n`);
  process.exit(name ? 2 : 0);
}
await bench.run(args);
