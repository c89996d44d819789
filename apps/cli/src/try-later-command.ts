import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { AtScheduler, DEFAULT_AT_OPTIONS } from '@certsmith/scheduler-at';
import { parseCommandLine, reportUsageError, usageError } from './command-line.js';

export const TRY_LATER_USAGE = `Usage: certsmith try-later --action CMD [--check CMD] [--delay MIN] [--at TIME] [--max-retries N]
                          [--skip-first] [--act-finally] [--tag T]
       certsmith try-later --has-jobs [--action CMD | --tag T]

cPanel's try-later on the at queue: run --check now; when it succeeds run --action; when it fails, queue
another attempt --delay minutes later (default 5; --at TIME for the first one, in at(1) syntax), at most
--max-retries times (default unlimited). --skip-first queues the first attempt instead of checking now.
--act-finally runs the action anyway once the retries are used up. --has-jobs lists the queued attempts
(exit 0 when there are some, 1 when none). Commands run with /bin/sh -c; jobs are tagged for atq/at -c/atrm.`;

const TAG_PREFIX = 'certsmith-try-later:';

/** `certsmith try-later`: returns the exit code. */
export async function runTryLater(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const usage = (message: string) => reportUsageError(usageError(message, 'certsmith try-later --help'), { program: 'certsmith try-later' });
  let values;
  try {
    ({ values } = parseCommandLine(
      argv,
      {
        action: { type: 'string' },
        check: { type: 'string' },
        'act-finally': { type: 'boolean' },
        at: { type: 'string' },
        delay: { type: 'string' },
        'max-retries': { type: 'string' },
        'skip-first': { type: 'boolean' },
        'has-jobs': { type: 'boolean' },
        tag: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      'certsmith try-later --help',
    ));
  } catch (error) {
    return reportUsageError(error, { program: 'certsmith try-later' });
  }
  if (values.help) {
    out(TRY_LATER_USAGE);
    return 0;
  }
  const scheduler = new AtScheduler(DEFAULT_AT_OPTIONS);
  const tag = values.tag ?? (values.action !== undefined ? `${TAG_PREFIX}${createHash('sha256').update(values.action).digest('hex').slice(0, 12)}` : undefined);

  if (values['has-jobs']) {
    const jobs = (await scheduler.list()).filter((job) => (tag ? job.tag === tag : job.tag.startsWith(TAG_PREFIX)));
    for (const job of jobs) out(`job ${job.id} at ${job.runAt} (${job.tag})`);
    if (jobs.length === 0) out('no try-later jobs queued');
    return jobs.length ? 0 : 1;
  }
  if (values.action === undefined || values.action.trim() === '') return usage('--action: is required');
  const delay = values.delay === undefined ? 5 : Number(values.delay);
  if (!Number.isInteger(delay) || delay < 1) return usage(`--delay: must be a whole number of minutes (1 or more), not "${values.delay}"`);
  const maxRetries = values['max-retries'] === undefined ? undefined : Number(values['max-retries']);
  if (maxRetries !== undefined && (!Number.isInteger(maxRetries) || maxRetries < 0))
    return usage(`--max-retries: must be a whole number (0 or more), not "${values['max-retries']}"`);
  if (values.at !== undefined && !/^[\w :.+/-]+$/.test(values.at)) return usage(`--at: "${values.at}" is not an at(1) time specification`);

  const queueNext = async (): Promise<number> => {
    const remaining = maxRetries === undefined ? undefined : maxRetries - 1;
    const command = [process.execPath, process.argv[1]!, 'try-later', '--action', values.action!, '--delay', String(delay), '--tag', tag!];
    if (values.check !== undefined) command.push('--check', values.check);
    if (remaining !== undefined) command.push('--max-retries', String(remaining));
    if (values['act-finally']) command.push('--act-finally');
    const job = { command, tag: tag!, delayMinutes: delay };
    const ref = values.at ? await scheduler.scheduleAt(job, values.at) : await scheduler.schedule(job);
    out(
      `try-later: queued job ${ref.id} at ${ref.runAt} (${ref.tag})${remaining === undefined ? '' : `, ${remaining} retr${remaining === 1 ? 'y' : 'ies'} left after it`}`,
    );
    return 0;
  };

  if (values['skip-first']) {
    if (maxRetries === 0) return usage('--skip-first, --max-retries 0: together they would never run anything');
    return queueNext();
  }
  const checked = values.check === undefined ? 0 : await shell(values.check);
  if (checked === 0) return shell(values.action);
  if (maxRetries === undefined || maxRetries > 0) return queueNext();
  if (values['act-finally']) {
    out('try-later: the check still fails and no retries are left: running the action anyway (--act-finally)');
    return shell(values.action);
  }
  process.stderr.write(`certsmith try-later: the check failed (exit ${checked}) and no retries are left\n`);
  return 1;
}

function shell(command: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on('error', () => resolve(127));
  });
}
