#!/usr/bin/env node
// certsmith's command line. Kept small: each command imports what it needs only when it runs, so that
// `--version` and `--help` start as fast as node itself.
import { readFileSync } from 'node:fs';

/**
 * V8 settings that keep a run's memory and CPU down (docs/performance.md): the young generation kept at its first
 * 1 MB instead of growing to 16 MB per semi-space, undici's llhttp (WebAssembly) compiled by the baseline tier only, a
 * full GC whenever the old generation has grown by 25 % (V8 lets it double or more first), and an interrupt budget 4x
 * V8's default so that TurboFan optimises only functions that stay hot (its compiles were ~1.4 s of CPU in a renewal
 * run of 50 certificates). They change no behaviour. Set at run time, once a command's modules are loaded, not on
 * node's command line: node's built-in modules carry compiled code that V8 accepts only under the flags it was made
 * with, so any V8 flag given at start makes node compile every built-in module it loads anew (~20-50 ms a run).
 */
const RUN_FLAGS = '--semi-space-growth-factor=1 --liftoff-only --heap-growing-percent=25 --interrupt-budget=270336';

async function loaded<T>(command: Promise<T>): Promise<T> {
  const module = await command;
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString(RUN_FLAGS);
  return module;
}

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

/** `--version` and `--help` alone, answered before any other module loads: they start as fast as node itself. */
function answeredAtOnce(args: string[]): boolean {
  const line = args.join(' ');
  if (line === '--version' || line === '-V') process.stdout.write(`certsmith ${version()}\n`);
  else if (['--help', '-h', 'help', 'check --help', 'check -h'].includes(line)) process.stdout.write(`${USAGE}\n`);
  else return false;
  return true;
}

async function main(argv: string[]): Promise<number> {
  const invokedAs = (process.argv[1] ?? '').split('/').pop() ?? '';
  const args = invokedAs.startsWith('checkallsslcerts') ? ['check', ...argv] : argv;
  if (answeredAtOnce(args)) return 0;
  const { parseCommandLine, reportUsageError, usageError } = await import('./command-line.js');
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
      const { runCheck } = await loaded(import('./check.js'));
      return runCheck({
        ...common,
        dryRun: values['dry-run'] ?? false,
        allowRetry: values['allow-retry'] ?? false,
        targets: values.target ?? [],
        invokedAs: process.argv.slice(0, 2),
      });
    }
    case 'dcv': {
      const { runDcv } = await loaded(import('./dcv-command.js'));
      return runDcv(common);
    }
    case 'status': {
      const { runStatus } = await loaded(import('./status-command.js'));
      return runStatus({ configFile: common.configFile, json: common.json, targets: values.target ?? [] });
    }
    case 'plugins': {
      const { runPlugins } = await loaded(import('./plugins-command.js'));
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
