import { randomBytes } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError, sleep } from './process.js';

/** The one IPv6 loopback address: the lab's only IPv6 address (traffic never leaves 127.0.0.0/8 and ::1). */
export const IPV6_LOOPBACK = '::1';

const LOCK_FILE = join(tmpdir(), 'certsmith-lab-ipv6-loopback.lock');

/**
 * Takes the lab's turn on ::1. IPv4 tests each get their own 127.x address, but IPv6 has only ::1, and HTTP DCV always
 * fetches port 80: a test that needs a server on [::1]:80, or nothing there (connection refused), holds this lock
 * across test files and processes, and releases it when done. A lock whose holder died is taken over.
 */
export async function holdIpv6Loopback(timeoutMs = 600_000): Promise<() => Promise<void>> {
  const token = `${process.pid} ${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(LOCK_FILE, 'wx', 0o644);
      await handle.writeFile(token);
      await handle.close();
      return async () => {
        if ((await readFile(LOCK_FILE, 'utf8').catch(() => '')) === token) await unlink(LOCK_FILE).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(LOCK_FILE, 'utf8').catch(() => '');
    const pid = Number(holder.split(' ')[0]);
    if (holder && !alive(pid)) {
      await unlink(LOCK_FILE).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new LabError(`${LOCK_FILE}: another test (${holder || 'unknown'}) has held ::1 for over ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
