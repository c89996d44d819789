import { readFile } from 'node:fs/promises';
import { ensurePackages } from './packages.js';
import { LabError, mustRun, run, sleep } from './process.js';

export interface AtJob {
  id: string;
  runAt: string;
  /** The job's script as `at -c` prints it. */
  script: string;
}

/**
 * Makes sure Debian's atd is running. Its spool and pid file are compiled in (README.md#atd), so tests share the
 * system queue: atd is started when it is not running and left running (other test files may be using it).
 */
export async function ensureAtd(): Promise<{ pid: number; startedHere: boolean }> {
  await ensurePackages({ '/usr/sbin/atd': 'at', '/usr/bin/at': 'at' });
  const alive = await atdPid();
  if (alive) return { pid: alive, startedHere: false };
  const result = await run('/usr/sbin/atd', []);
  if (result.code !== 0) throw new LabError(`atd failed to start (${result.code}):\n${result.stderr}${result.stdout}`);
  for (let i = 0; i < 100; i++) {
    const pid = await atdPid();
    if (pid) return { pid, startedHere: true };
    await sleep(50);
  }
  throw new LabError('atd started but wrote no /run/atd.pid');
}

async function atdPid(): Promise<number | null> {
  const text = await readFile('/run/atd.pid', 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** The queued jobs whose script contains `marker` (a tag written into the job). */
export async function atJobsContaining(marker: string): Promise<AtJob[]> {
  const queue = await mustRun('atq', []);
  const jobs: AtJob[] = [];
  for (const line of queue.split('\n').filter(Boolean)) {
    const [id, ...rest] = line.split(/\s+/);
    if (!id) continue;
    const script = await run('at', ['-c', id]);
    if (script.code === 0 && script.stdout.includes(marker)) jobs.push({ id, runAt: rest.slice(0, 5).join(' '), script: script.stdout });
  }
  return jobs;
}

/** Removes the queued jobs whose script contains `marker`; returns how many. */
export async function removeAtJobsContaining(marker: string): Promise<number> {
  const jobs = await atJobsContaining(marker);
  for (const job of jobs) await run('atrm', [job.id]);
  return jobs.length;
}
