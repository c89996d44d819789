#!/usr/bin/env -S node --max-semi-space-size=1 --single-threaded --liftoff-only --heap-growing-percent=25 --interrupt-budget=270336
// certsmith's command line. Kept small: each command imports what it needs only when it runs, so that
// `--version` and `--help` start as fast as node itself.
// The launcher's node flags keep one run's memory down (docs/performance.md): a 1 MB young generation instead of
// up to 16 MB per semi-space, no GC or compiler helper threads on a small server (their arenas cost ~10 MB),
// undici's llhttp (WebAssembly) compiled by the baseline tier only, and a full GC whenever the old generation has
// grown by 25 % (V8 lets it double or more first; the extra full GCs cost ~20-150 ms of CPU a run), and an interrupt
// budget 4x V8's default so that TurboFan optimises only functions that stay hot (in a renewal run its compiles were
// ~1.4 s of CPU for N=50). They change no behaviour; `node dist/main.js` runs without them.
import { readFileSync } from 'node:fs';
import { parseCommandLine, reportUsageError, usageError } from './command-line.js';

const USAGE = `Usage: certsmith <command> [options]        (also installed as checkallsslcerts = certsmith check)

Commands:
  check      Inspect every service certificate; replace what is defective or expiring.
  init       Write a starting configuration for this server (certsmith init --help).
  dcv        Run the local DCV pre-check for every name (HTTP file or DNS TXT), then CAA, without ordering.
  plugins    List the plugins the configuration loads, with their versions and contributions
             (--verbose: how each service is reloaded, and why that command).
  status     Show each target's certificates (issuer, profile, expiry, days left, whether renewal is due and why),
             pending orders and the last run, from files and state only (no network, no lock); --json, --target T.
  schedule   Run check daily: install|remove|show the systemd timer or the cron file (certsmith schedule --help).
  try-later  Run a command when a check passes, retrying later through the at queue (cPanel's try-later;
             certsmith try-later --help).

Options for check:
  --config F       configuration file (default: $CERTSMITH_CONFIG or /etc/certsmith/config.json)
  --verbose        print certificate details, DNS paths and every event
  --json           print one JSON document with the whole report instead of the log
  --dry-run        inspect and say what would be done; write nothing
  --allow-retry    when an order is still pending, schedule one re-run later (at queue)
  --no-retry       never schedule a re-run (used by the scheduled re-run itself)
  --target T       check only this target (id or one of its names); repeatable. Runs beside a scheduled
                   run: each target has its own lock

  -h, --help       this text
  -V, --version    the version

Exit codes: 0 all healthy or fixed, 1 some target failed, 2 usage or configuration error.`;

const HELP = 'certsmith --help';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const invokedAs = (process.argv[1] ?? '').split('/').pop() ?? '';
  const args = invokedAs.startsWith('checkallsslcerts') ? ['check', ...argv] : argv;
  if (args[0] === 'try-later') {
    // Its own options (cPanel's), parsed by the command.
    const { runTryLater } = await import('./try-later-command.js');
    return runTryLater(args.slice(1));
  }
  if (args[0] === 'init') {
    // Its own options (--profile, --force), parsed by the command.
    const { runInit } = await import('./init-command.js');
    return runInit(args.slice(1));
  }
  if (args[0] === 'schedule') {
    const { runSchedule } = await import('./schedule-command.js');
    return runSchedule(args.slice(1));
  }
  let parsed;
  try {
    parsed = parseCommandLine(
      args,
      {
        config: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        json: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'allow-retry': { type: 'boolean' },
        'no-retry': { type: 'boolean' },
        target: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
      HELP,
    );
  } catch (error) {
    return reportUsageError(error);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`certsmith ${version()}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values['allow-retry'] && values['no-retry']) {
    return reportUsageError(usageError('--allow-retry, --no-retry: exclude each other', HELP));
  }
  const common = {
    configFile: values.config ?? process.env.CERTSMITH_CONFIG ?? '/etc/certsmith/config.json',
    verbose: values.verbose ?? false,
    json: values.json ?? false,
    version: version(),
  };
  switch (command) {
    case 'check': {
      const { runCheck } = await import('./check.js');
      return runCheck({
        ...common,
        dryRun: values['dry-run'] ?? false,
        allowRetry: values['allow-retry'] ?? false,
        targets: values.target ?? [],
        invokedAs: process.argv.slice(0, 2),
      });
    }
    case 'dcv': {
      const { runDcv } = await import('./dcv-command.js');
      return runDcv(common);
    }
    case 'status': {
      const { runStatus } = await import('./status-command.js');
      return runStatus({ configFile: common.configFile, json: common.json, targets: values.target ?? [] });
    }
    case 'plugins': {
      const { runPlugins } = await import('./plugins-command.js');
      return runPlugins(common);
    }
    case undefined:
      return reportUsageError(usageError('no command given', HELP));
    default:
      return reportUsageError(usageError(`${command}: unknown command`, HELP));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`certsmith: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
