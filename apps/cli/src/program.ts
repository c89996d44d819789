// certsmith's commands behind the entry points (main.ts for the program, testing/ for the tests): each command imports
// what it needs only when it runs.
import type { Overrides } from './compose.js';

export type { Overrides } from './compose.js';

/** What the entry point knows of itself: the usage text and the version (read beside it). */
export interface Entry {
  usage: string;
  version: () => string;
}

const HELP = 'certsmith --help';

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

/**
 * Runs one command line (`args`, already `check ...` when invoked as checkallsslcerts) and returns the exit code.
 * `overrides` replace what the composition binds (the test entry's clock, fault points and DNS policy); the shipped
 * program gives none.
 */
export async function start(args: string[], entry: Entry, overrides: Overrides = {}): Promise<number> {
  const { usage, version } = entry;
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
    process.stdout.write(`${usage}\n`);
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
    overrides,
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
      return runStatus({ configFile: common.configFile, json: common.json, targets: values.target ?? [], overrides });
    }
    case 'fleet': {
      const { runFleet } = await loaded(import('./fleet-command.js'));
      return runFleet({ configFile: common.configFile, json: common.json, action: positionals[1], overrides });
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
