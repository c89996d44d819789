import { randomInt } from 'node:crypto';
import { mustRun, run } from './process.js';

/**
 * A loopback address for one test's servers. Random within 127.64.0.0/10-ish so that test files running in
 * parallel do not collide on ports; never outside 127.0.0.0/8.
 */
export function randomLoopback(): string {
  return `127.${randomInt(64, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
}

/** Some servers (BIND) listen only on addresses an interface has: add a /32 alias to lo. Root only. */
export async function addLoopbackAlias(address: string): Promise<() => Promise<void>> {
  if (!address.startsWith('127.')) throw new Error(`refusing to alias ${address}: not loopback`);
  await mustRun('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
  return async () => {
    await run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']);
  };
}
