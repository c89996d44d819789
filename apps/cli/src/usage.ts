// The usage text, the version and the answers that need nothing else: `--version` and `--help` start as fast as node.
// Imported by the entry points only (main.ts, the test entry), which hand USAGE and version to program.ts: the package's
// build inlines this file into its launcher, whose directory is where ../package.json is found.
import { readFileSync } from 'node:fs';

export const USAGE = `Usage: certsmith <command> [options]        (also installed as checkallsslcerts = certsmith check)

Commands:
  check      Inspect every service certificate; replace what is defective or expiring.
  init       Write a starting configuration for this server (certsmith init --help).
  dcv        Run the local DCV pre-check for every name (HTTP file or DNS TXT), then CAA, without ordering.
  plugins    List the plugins the configuration loads, with their versions and contributions
             (--verbose: how each service is reloaded, and why that command).
  status     Show each target's certificates (issuer, profile, expiry, days left, whether renewal is due and why),
             pending orders and the last run, from files and state only (no network, no lock); --json, --target T.
  fleet status  Across the fleet's hosts (through the fleet plugin): certificates expired, defective, expiring or
             due, pending orders, hosts held back by a rate limit or silent for two days; worst first; --json.
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

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `--version` and `--help` alone, answered before any other module loads: they start as fast as node itself. */
export function answeredAtOnce(args: string[]): boolean {
  const line = args.join(' ');
  if (line === '--version' || line === '-V') process.stdout.write(`certsmith ${version()}\n`);
  else if (['--help', '-h', 'help', 'check --help', 'check -h'].includes(line)) process.stdout.write(`${USAGE}\n`);
  else return false;
  return true;
}
