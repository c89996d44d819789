import { execFile } from 'node:child_process';
import { CertsmithError, type JobRef, type RetryJob, type Scheduler } from '@certsmith/core';

export interface AtSchedulerOptions {
  /** The at queue letter certsmith's jobs go to (a-z, A-Z); 'c' by default, so that `atq -q c` lists them. */
  queue: string;
  /** Binaries, for tests and odd systems. */
  at: string;
  atq: string;
  atrm: string;
}

export const DEFAULT_AT_OPTIONS: AtSchedulerOptions = { queue: 'c', at: 'at', atq: 'atq', atrm: 'atrm' };

/** The first line of every job's script after at's own environment block: how a job is found again. */
export const JOB_MARKER = '# certsmith-job:';

/**
 * The Scheduler on the system's `at` queue (like cPanel's try-later): each job is a shell script whose marker
 * line carries the tag; list() reads the scripts back with `at -c`; cancel() is `atrm`. Job output is discarded
 * (atd would mail it).
 */
export class AtScheduler implements Scheduler {
  readonly id = 'at';

  constructor(private readonly options: AtSchedulerOptions = DEFAULT_AT_OPTIONS) {}

  schedule(job: RetryJob): Promise<JobRef> {
    return this.scheduleAt(job, `now + ${Math.max(1, Math.round(job.delayMinutes))} minutes`);
  }

  /** A job at an at(1) time specification ('now + 2 hours', '23:00', 'midnight tomorrow'). */
  async scheduleAt(job: Pick<RetryJob, 'command' | 'tag'>, timespec: string): Promise<JobRef> {
    if (/[\n\r]/.test(job.tag)) throw new CertsmithError('SCHEDULE_BAD_TAG', 'a job tag must be one line');
    const script = `${JOB_MARKER} ${job.tag}\n${job.command.map(shellQuote).join(' ')} >/dev/null 2>&1\n`;
    const result = await this.run(this.options.at, ['-M', '-q', this.options.queue, ...timespec.split(/\s+/).filter(Boolean)], script);
    const match = /job (\d+) at (.+)/.exec(result.stderr + result.stdout);
    if (result.code !== 0 || !match) {
      throw new CertsmithError(
        'SCHEDULE_FAILED',
        `at refused the job (${timespec}): ${(result.stderr || result.stdout).trim().split('\n').pop() ?? `exit ${result.code}`}`,
      );
    }
    if (/No atd running/i.test(result.stderr)) {
      // at queued it, but nothing will run it until atd is started: say so, keep the job.
      process.emitWarning(`at job ${match[1]} queued but atd is not running`);
    }
    return { id: match[1]!, tag: job.tag, runAt: new Date(match[2]!).toISOString() };
  }

  /** certsmith's jobs in the queue (those with the marker), optionally with one tag only. */
  async list(tag?: string): Promise<JobRef[]> {
    const queue = await this.run(this.options.atq, ['-q', this.options.queue]);
    if (queue.code !== 0) throw new CertsmithError('SCHEDULE_FAILED', `atq failed: ${queue.stderr.trim()}`);
    const jobs: JobRef[] = [];
    for (const line of queue.stdout.split('\n').filter(Boolean)) {
      const [id, ...rest] = line.split(/\s+/);
      if (!id) continue;
      const script = await this.run(this.options.at, ['-c', id]);
      if (script.code !== 0) continue; // ran or removed in between
      const marker = script.stdout.split('\n').find((l) => l.startsWith(JOB_MARKER));
      if (!marker) continue;
      const jobTag = marker.slice(JOB_MARKER.length).trim();
      if (tag !== undefined && jobTag !== tag) continue;
      jobs.push({ id, tag: jobTag, runAt: new Date(rest.slice(0, 5).join(' ')).toISOString() });
    }
    return jobs;
  }

  async cancel(ref: JobRef): Promise<void> {
    const result = await this.run(this.options.atrm, [ref.id]);
    if (result.code !== 0) throw new CertsmithError('SCHEDULE_FAILED', `atrm ${ref.id} failed: ${result.stderr.trim()}`);
  }

  private run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(cmd, args, { timeout: 15_000, encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
        resolve({ code, stdout, stderr: stderr || (error && typeof error.code !== 'number' ? error.message : '') });
      });
      child.stdin?.on('error', () => undefined); // atq and at -c do not read stdin
      child.stdin?.end(input ?? '');
    });
  }
}

/** POSIX shell single quoting. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
