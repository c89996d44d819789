import { createHash } from 'node:crypto';

/** What the scheduled run executes: the certsmith that installed the schedule, with its config file. */
export interface ScheduledCommand {
  /** node, its flags and the CLI's script, as the running certsmith was started (absolute paths). */
  certsmith: string[];
  /** Absolute path of the config file. */
  configFile: string;
}

/** The command line of the scheduled run: `certsmith check --config F` (no --allow-retry: the next day's run resumes). */
export function checkCommand(command: ScheduledCommand): string[] {
  return [...command.certsmith, 'check', '--config', command.configFile];
}

/**
 * The shipped service unit with its ExecStart replaced by this certsmith and config. Throws when the template has no
 * ExecStart line (a damaged installation).
 */
export function renderService(template: string, command: ScheduledCommand): string {
  const line = /^ExecStart=.*$/m;
  if (!line.test(template)) throw new Error('the service unit template has no ExecStart= line');
  const execStart = `ExecStart=${checkCommand(command).map(systemdWord).join(' ')}`;
  return template.replace(line, () => execStart);
}

/**
 * The shipped cron file with its schedule line replaced: minute and hour from `hostname`, and this certsmith.
 * Throws when the template has no schedule line.
 */
export function renderCron(template: string, command: ScheduledCommand, hostname: string): string {
  const line = /^[0-9*][^\n]*\sroot\s.*$/m;
  if (!line.test(template)) throw new Error('the cron template has no schedule line');
  const { minute, hour } = cronTime(hostname);
  const words = checkCommand(command).map(shellWord).join(' ');
  // cron turns an unescaped % into a newline (the start of standard input).
  return template.replace(line, () => `${minute} ${hour} * * * root ${words.replace(/%/g, '\\%')} >/dev/null`);
}

/**
 * A time between 00:00 and 05:59, the same for one host on every install and spread across hosts (cPanel spreads its
 * AutoSSL runs the same way: a CA should not see every server at once).
 */
export function cronTime(hostname: string): { minute: number; hour: number } {
  const n = createHash('sha256').update(hostname).digest().readUInt32BE(0);
  return { minute: n % 60, hour: Math.floor(n / 60) % 6 };
}

/**
 * One word of an ExecStart line: bare when it holds nothing systemd reads specially, else double-quoted with
 * backslash escapes. `%` (specifiers) and `$` (environment variables) are doubled in every case.
 */
export function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[\w/.:=,+@%$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One word of a /bin/sh command line: bare when safe, else single-quoted. */
export function shellWord(word: string): string {
  if (/^[\w/.:=,+@%-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
