import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { access, constants, readFile, stat, unlink } from 'node:fs/promises';
import { hostname as systemHostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@certsmith/core/atomic-file';
import { UsageError } from '@certsmith/core/errors';
import { reportUsageError, usageError } from './command-line.js';
import { renderCron, renderService, type ScheduledCommand } from './schedule-units.js';
import { shareDir } from './share-dir.js';

export const SCHEDULE_USAGE = `Usage: certsmith schedule install|remove|show [--unit-dir D | --cron [--cron-file F]] [--config F]

Runs certsmith check once a day. install writes certsmith.service and certsmith.timer (daily, spread over the first
six hours, made up after downtime) into --unit-dir (default /etc/systemd/system) and enables the timer when systemd
is running; with --cron, or on a system without systemd, it writes a cron file instead (--cron-file, default
/etc/cron.d/certsmith). The scheduled run uses this certsmith and --config (default: $CERTSMITH_CONFIG or
/etc/certsmith/config.json). remove disables and deletes what install wrote; show prints it.`;

const DEFAULT_UNIT_DIR = '/etc/systemd/system';
const DEFAULT_CRON_FILE = '/etc/cron.d/certsmith';
const SERVICE = 'certsmith.service';
const TIMER = 'certsmith.timer';
/** Directories systemd reads system units from: units elsewhere must be linked before they can be enabled. */
export const SYSTEMD_UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
];

/** What the command needs from the machine; the CLI passes the real ones, tests their own. */
export interface ScheduleDeps {
  /** Runs a command (systemctl) to completion; never throws for a non-zero exit. */
  run(command: string[]): Promise<{ code: number; output: string }>;
  /** Whether systemd is the running init. */
  systemdRunning(): boolean;
  /** Where systemd reads units from (systemctl acts on units there only). */
  systemdUnitDirs: readonly string[];
  /** node, its flags and the CLI's script of the running certsmith. */
  certsmith: string[];
  hostname: string;
  /** The directory holding systemd/ and cron/ with the shipped files. */
  shareDir: string | null;
  out(line: string): void;
  err(line: string): void;
}

/** The machine itself: systemctl through execFile, systemd detected as sd_booted() does (/run/systemd/system). */
export function systemScheduleDeps(): ScheduleDeps {
  return {
    run: (command) =>
      new Promise((done) => {
        execFile(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
          done({ code, output: `${stdout}${stderr}`.trim() || (error && typeof error.code !== 'number' ? error.message : '') });
        });
      }),
    systemdRunning: () => existsSync('/run/systemd/system') && statSync('/run/systemd/system').isDirectory(),
    systemdUnitDirs: SYSTEMD_UNIT_DIRS,
    certsmith: [process.execPath, ...process.execArgv, resolve(process.argv[1] ?? '')],
    hostname: systemHostname(),
    shareDir: shareDir(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

const HELP = 'certsmith schedule --help';

/** A problem with the input (a directory, a file): one line on stderr and exit 2. */
class ScheduleInputError extends UsageError {
  constructor(message: string) {
    super('SCHEDULE_INVALID', message);
  }
}

/** `certsmith schedule`: returns the exit code. */
export async function runSchedule(argv: string[], deps: ScheduleDeps = systemScheduleDeps()): Promise<number> {
  const refused = (error: unknown) => reportUsageError(error, { write: deps.err });
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cron: { type: 'boolean' },
        'unit-dir': { type: 'string' },
        'cron-file': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return refused(usageError(optionProblem(error), HELP));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    deps.out(SCHEDULE_USAGE);
    return 0;
  }
  const action = positionals[0];
  if (positionals.length !== 1 || !['install', 'remove', 'show'].includes(action!)) {
    return refused(usageError(action === undefined ? 'schedule: say install, remove or show' : `${positionals.join(' ')}: unknown action`, HELP));
  }
  // --cron-file alone says cron as --cron does.
  const cron = values.cron === true || values['cron-file'] !== undefined;
  if (cron && values['unit-dir'] !== undefined) {
    return refused(usageError(`${values.cron ? '--cron' : '--cron-file'}: excludes --unit-dir`, HELP));
  }
  const where: Where = {
    unitDir: resolve(values['unit-dir'] ?? DEFAULT_UNIT_DIR),
    cronFile: resolve(values['cron-file'] ?? DEFAULT_CRON_FILE),
    // Units when asked for by --unit-dir or when systemd runs; cron when asked for or without systemd.
    units: !cron && (values['unit-dir'] !== undefined || deps.systemdRunning()),
    explicitUnits: values['unit-dir'] !== undefined,
    explicitCron: cron,
  };
  const configFile = resolve(values.config ?? process.env.CERTSMITH_CONFIG ?? '/etc/certsmith/config.json');
  try {
    if (action === 'install') return await install(where, { certsmith: deps.certsmith, configFile }, deps);
    if (action === 'remove') return await remove(where, deps);
    return await show(where, deps);
  } catch (error) {
    return refused(error);
  }
}

interface Where {
  unitDir: string;
  cronFile: string;
  /** install writes units (else a cron file). */
  units: boolean;
  explicitUnits: boolean;
  explicitCron: boolean;
}

async function install(where: Where, command: ScheduledCommand, deps: ScheduleDeps): Promise<number> {
  const share = deps.shareDir;
  if (!share) throw new ScheduleInputError('the shipped units are missing (no share/ directory beside the certsmith program): reinstall certsmith');
  if (!existsSync(command.configFile)) deps.out(`Note: ${command.configFile} does not exist yet: write it before the first scheduled run.`);
  if (!where.units) {
    if (!where.explicitCron) deps.out('systemd is not running: installing a cron file instead of systemd units.');
    await usableDirectory(dirname(where.cronFile), 'the cron directory', true);
    const text = renderCron(await template(share, 'cron/certsmith'), command, deps.hostname);
    deps.out(`${await writeIfChanged(where.cronFile, text)}: ${where.cronFile}`);
    deps.out(`certsmith check runs daily from cron: ${text.split('\n').find((l) => /^\d/.test(l))}`);
    if (existsSync(join(where.unitDir, TIMER)))
      deps.out(`Note: ${join(where.unitDir, TIMER)} is installed too: two schedules (certsmith schedule remove --unit-dir ${where.unitDir})`);
    return 0;
  }
  await usableDirectory(where.unitDir, 'the unit directory', true);
  const files: [string, string][] = [
    [join(where.unitDir, SERVICE), renderService(await template(share, `systemd/${SERVICE}`), command)],
    [join(where.unitDir, TIMER), await template(share, `systemd/${TIMER}`)],
  ];
  for (const [path, text] of files) deps.out(`${await writeIfChanged(path, text)}: ${path}`);
  if (existsSync(where.cronFile))
    deps.out(`Note: ${where.cronFile} is installed too: two schedules (certsmith schedule remove --cron --cron-file ${where.cronFile})`);
  const systemctl = systemctlAvailable(where, deps);
  if (systemctl !== true) {
    deps.out(`${systemctl}: enable with: systemctl daemon-reload && systemctl enable --now ${TIMER}`);
    return 0;
  }
  for (const step of [
    ['systemctl', 'daemon-reload'],
    ['systemctl', 'enable', '--now', TIMER],
  ]) {
    const result = await deps.run(step);
    if (result.code !== 0) {
      deps.err(`certsmith: SYSTEMCTL_FAILED: ${step.join(' ')}: exit ${result.code}: ${result.output}`);
      return 1;
    }
    deps.out(`ran: ${step.join(' ')}`);
  }
  deps.out(`certsmith check runs daily from ${TIMER} (systemctl list-timers ${TIMER} shows the next run).`);
  return 0;
}

async function remove(where: Where, deps: ScheduleDeps): Promise<number> {
  let removed = 0;
  // Without --cron or --unit-dir, whatever install may have written at the default places goes.
  const doUnits = where.explicitUnits || !where.explicitCron;
  const doCron = where.explicitCron || !where.explicitUnits;
  if (doUnits && (where.explicitUnits || existsSync(where.unitDir))) {
    await usableDirectory(where.unitDir, 'the unit directory', true);
    const present = [SERVICE, TIMER].filter((name) => existsSync(join(where.unitDir, name)));
    const systemctl = systemctlAvailable(where, deps);
    if (present.includes(TIMER) && systemctl === true) {
      const result = await deps.run(['systemctl', 'disable', '--now', TIMER]);
      if (result.code !== 0) {
        deps.err(`certsmith: SYSTEMCTL_FAILED: systemctl disable --now ${TIMER}: exit ${result.code}: ${result.output}`);
        return 1;
      }
      deps.out(`ran: systemctl disable --now ${TIMER}`);
    } else if (present.includes(TIMER)) deps.out(`${systemctl}: nothing to disable (systemctl disable --now ${TIMER} where it runs)`);
    for (const name of present) {
      await unlink(join(where.unitDir, name));
      deps.out(`removed: ${join(where.unitDir, name)}`);
      removed++;
    }
    if (present.length && systemctl === true) {
      await deps.run(['systemctl', 'daemon-reload']);
      deps.out('ran: systemctl daemon-reload');
    }
  }
  if (doCron && (where.explicitCron || existsSync(dirname(where.cronFile)))) {
    await usableDirectory(dirname(where.cronFile), 'the cron directory', true);
    if (existsSync(where.cronFile)) {
      await unlink(where.cronFile);
      deps.out(`removed: ${where.cronFile}`);
      removed++;
    }
  }
  if (removed === 0) deps.out('nothing to remove: no certsmith schedule is installed there');
  return 0;
}

async function show(where: Where, deps: ScheduleDeps): Promise<number> {
  const files: string[] = [];
  if (where.explicitUnits || !where.explicitCron) {
    if (where.explicitUnits || existsSync(where.unitDir)) await usableDirectory(where.unitDir, 'the unit directory', false);
    files.push(join(where.unitDir, SERVICE), join(where.unitDir, TIMER));
  }
  if (where.explicitCron || !where.explicitUnits) files.push(where.cronFile);
  let found = 0;
  for (const path of files) {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
      throw new ScheduleInputError(`${path}: cannot be read (${error.code ?? error.message})`);
    });
    if (text === null) {
      deps.out(`${path}: not installed`);
      continue;
    }
    found++;
    deps.out(`${path}:`);
    for (const line of text.trimEnd().split('\n')) deps.out(`  ${line}`);
  }
  if (existsSync(join(where.unitDir, TIMER)) && systemctlAvailable(where, deps) === true) {
    const result = await deps.run(['systemctl', 'list-timers', '--all', TIMER]);
    deps.out(result.output);
  }
  if (found === 0) deps.out('no certsmith schedule is installed (certsmith schedule install)');
  return 0;
}

/** true when systemctl can act on units in the unit directory; else why not, in words. */
function systemctlAvailable(where: Where, deps: ScheduleDeps): true | string {
  if (!deps.systemdRunning()) return 'systemd is not running';
  if (!deps.systemdUnitDirs.includes(where.unitDir)) return `systemd does not read units from ${where.unitDir} (link them with systemctl link)`;
  return true;
}

/** The directory exists and can be read (and written): else a ScheduleInputError naming it. */
async function usableDirectory(dir: string, what: string, write: boolean): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScheduleInputError(`${dir}: ${what} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`);
  }
  if (!info.isDirectory()) throw new ScheduleInputError(`${dir}: ${what} is not a directory`);
  try {
    await access(dir, constants.R_OK | constants.X_OK | (write ? constants.W_OK : 0));
  } catch (error) {
    throw new ScheduleInputError(`${dir}: ${what} cannot be ${write ? 'written' : 'read'} (${(error as NodeJS.ErrnoException).code})`);
  }
}

async function template(share: string, name: string): Promise<string> {
  try {
    return await readFile(join(share, name), 'utf8');
  } catch (error) {
    throw new ScheduleInputError(`${join(share, name)}: the shipped file cannot be read (${(error as NodeJS.ErrnoException).code}): reinstall certsmith`);
  }
}

/** Writes the file (0644) through a temp file and a rename, unless it already holds the text; says which. */
async function writeIfChanged(path: string, text: string): Promise<'unchanged' | 'written'> {
  const current = await readFile(path, 'utf8').catch(() => null);
  if (current === text) return 'unchanged';
  try {
    await writeFileAtomic(path, text, { mode: 0o644 });
  } catch (error) {
    throw new ScheduleInputError(`${path}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return 'written';
}

/** parseArgs' complaint in a few words of our own. */
function optionProblem(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `${option}: unknown option`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${option}: needs a value`;
  return message;
}
