// The benchmarks, one file each: `npm run bench -w @certsmith/bench -- <name> [options]`.
// Each prints a table; none asserts a time (tests never do).
const BENCHMARKS: Record<string, { about: string; run: (args: string[]) => Promise<void> }> = {
  inspect: { about: 'inspect N certificate files (parse + every offline rule) beside the raw X509Certificate parse rate', run: async (args) => (await import('./inspect.js')).main(args) },
  issue: { about: 'issue N certificates from Pebble (EAB) through @certsmith/acme, one at a time: wall and CPU per certificate', run: async (args) => (await import('./issue.js')).main(args) },
  resolve: { about: 'resolve N distinct names from the lab root (BIND) with a cold cache, beside Unbound from the same root', run: async (args) => (await import('./resolve.js')).main(args) },
};

const [name, ...args] = process.argv.slice(2);
const bench = name ? BENCHMARKS[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -w @certsmith/bench -- <name> [options]\n${Object.entries(BENCHMARKS).map(([n, b]) => `  ${n.padEnd(10)} ${b.about}`).join('\n')}\n`);
  process.exit(name ? 2 : 0);
}
await bench.run(args);
