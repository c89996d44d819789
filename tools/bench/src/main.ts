// The benchmarks, one file each. Each prints a markdown table and writes JSON to tools/bench/results; none asserts
// a time (tests never do). Every figure has the 1-minute load average beside it; the tables go to results/*.md too.
// --cli <path>: measure another certsmith entry point (a bundled one, say) in renewal, healthy and coldstart.
//   npm run bench                                   every part of ALL_PARTS
//   npm run bench -- --parts renewal,coldstart --n 10,50 --tools certsmith,certbot --runs 3 [--cli <path>]
//   npm run bench -- <name> [options]               one benchmark with its own options
// As root the entry re-runs itself in a private network namespace (only lo, brought up) so that it can reach
// nothing else and its ports clash with nothing; --no-netns (or not being root) runs it here.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCHMARKS: Record<string, { about: string; run: (args: string[]) => Promise<unknown> }> = {
  renewal: {
    about: 'renewal of N targets (4 names, http-01, Pebble with EAB): certsmith check beside certbot and lego loops',
    run: async (args) => (await import('./renewal.js')).main(args),
  },
  healthy: {
    about: 'certsmith check over N (10,000) site targets whose certificates are all valid: wall time and peak memory',
    run: async (args) => (await import('./healthy.js')).main(args),
  },
  coldstart: {
    about: 'certsmith --version and check --help beside node -e 0, certbot --version and lego --version (medians of runs taking turns)',
    run: async (args) => (await import('./coldstart.js')).main(args),
  },
  inspect: {
    about: 'inspect N certificate files (parse + every offline rule) beside the raw X509Certificate parse rate',
    run: async (args) => (await import('./inspect.js')).main(args),
  },
  resolve: {
    about: 'resolve N distinct names from the lab root (BIND) with a cold cache, beside Unbound from the same root',
    run: async (args) => (await import('./resolve.js')).main(args),
  },
  status: {
    about: 'certsmith status over N (10,000) site targets with their state (last run, pending orders): wall time, aim under 2 s',
    run: async (args) => (await import('./status.js')).main(args),
  },
  dnssec: {
    about: 'resolve N (1,000) signed names from the lab root with and without DNSSEC validation (aim: at most 2x)',
    run: async (args) => (await import('./dnssec.js')).main(args),
  },
  fleet: {
    about: 'a fleet on one NATS: fleet status over H (100) hosts of T (10) targets (aim under 1 s); NATS share of one run (aim under 5 %)',
    run: async (args) => (await import('./fleet.js')).main(args),
  },
  proof: {
    about:
      "the proof's score: certsmith dcv's verdict beside the CA's (Pebble, the double's CAA and every-perspective checks) on names under 12 kinds of fault",
    run: async (args) => (await import('./proof.js')).main(args),
  },
  issue: {
    about: 'issue N certificates from Pebble (EAB) through @certsmith/acme, one at a time: wall and CPU per certificate',
    run: async (args) => (await import('./issue.js')).main(args),
  },
};
const ALL_PARTS = ['coldstart', 'healthy', 'renewal', 'inspect', 'resolve', 'fleet', 'dnssec'];

function usage(): string {
  return `usage: npm run bench [-- --parts ${ALL_PARTS.join(',')}] [--n 10,50] [--tools certsmith,certbot,lego] [--healthy-n 10000] [--runs 3] [--cli <path>] [--no-netns]
       npm run bench -- <name> [options]
${Object.entries(BENCHMARKS)
  .map(([n, b]) => `  ${n.padEnd(10)} ${b.about}`)
  .join('\n')}
`;
}

const argv = process.argv.slice(2);
const noNetns = argv.includes('--no-netns');
const args = argv.filter((a) => a !== '--no-netns');

if (!noNetns && process.getuid?.() === 0 && process.env.CERTSMITH_BENCH_NETNS !== '1') {
  // `ip link set lo up` first: a new namespace's lo is down. 127.0.0.0/8 then works as on the host.
  const result = spawnSync(
    'unshare',
    ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...args],
    {
      stdio: 'inherit',
      env: { ...process.env, CERTSMITH_BENCH_NETNS: '1' },
    },
  );
  if (result.error) throw result.error;
  process.exit(result.status ?? 1);
}

const [first, ...rest] = args;
if (first === '--help' || first === '-h' || first === 'help') {
  process.stdout.write(usage());
} else if (first && !first.startsWith('-')) {
  const bench = BENCHMARKS[first];
  if (!bench) {
    process.stderr.write(usage());
    process.exit(2);
  }
  await bench.run(rest);
} else {
  const { values } = parseArgs({
    args,
    options: {
      parts: { type: 'string', default: ALL_PARTS.join(',') },
      n: { type: 'string', default: '10,50' },
      tools: { type: 'string', default: 'certsmith,certbot,lego' },
      'healthy-n': { type: 'string', default: '10000' },
      runs: { type: 'string', default: '3' },
      cli: { type: 'string' },
    },
  });
  const parts = values.parts.split(',').filter(Boolean);
  const unknown = parts.filter((p) => !BENCHMARKS[p]);
  if (unknown.length > 0) {
    process.stderr.write(`unknown part(s): ${unknown.join(', ')}\n${usage()}`);
    process.exit(2);
  }
  process.stdout.write(`# certsmith benchmarks (${process.env.CERTSMITH_BENCH_NETNS === '1' ? 'private network namespace' : 'host network'})\n`);
  for (const part of parts) {
    const cli = values.cli ? ['--cli', values.cli] : [];
    const partArgs =
      part === 'renewal'
        ? ['--n', values.n, '--tools', values.tools, '--runs', values.runs, ...cli]
        : part === 'healthy'
          ? ['--n', values['healthy-n'], '--runs', values.runs, ...cli]
          : part === 'coldstart'
            ? cli
            : [];
    await BENCHMARKS[part]!.run(partArgs);
  }
}
