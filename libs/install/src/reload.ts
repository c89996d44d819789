import { spawn } from 'node:child_process';
import { CertsmithError } from '@certsmith/core';

/**
 * Runs a service's reload command, bounded: on timeout or abort the whole process group is killed, so a
 * shell script whose child hangs cannot keep the run waiting. Resolves on the command's exit (a daemon it
 * starts may keep our stderr open; that must not matter).
 */
export function runReload(argv: string[], timeoutMs: number, signal: AbortSignal, service: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    let why: string | null = null;
    const killGroup = (reason: string) => {
      why = reason;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => killGroup(`did not finish within ${timeoutMs} ms (killed)`), timeoutMs);
    const onAbort = () => killGroup('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (error: CertsmithError | null) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      child.stderr.destroy();
      if (error) reject(error);
      else resolve();
    };
    const command = argv.join(' ');
    child.once('error', (error) => done(new CertsmithError('RELOAD_FAILED', `${service}: reload command "${command}" could not run: ${error.message}`)));
    child.once('exit', (code, sig) => {
      if (why) return done(new CertsmithError('RELOAD_FAILED', `${service}: reload command "${command}" ${why}`));
      if (code === 0) return done(null);
      const last = stderr.trim().split('\n').pop();
      done(
        new CertsmithError(
          'RELOAD_FAILED',
          `${service}: reload command "${command}" failed (${sig ? `signal ${sig}` : `exit ${code}`})${last ? `: ${last}` : ''}`,
        ),
      );
    });
  });
}
