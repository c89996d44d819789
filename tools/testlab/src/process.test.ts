import { describe, expect, it } from 'vitest';
import { LabError, ServerProcess, labDir, portOpen, run } from './process.js';
import { randomLoopback } from './loopback.js';

describe('ServerProcess', () => {
  it("fails with the server's own output when it exits before it is ready", async () => {
    const server = new ServerProcess('broken', process.execPath, ['-e', 'console.error("bind: address in use"); process.exit(3)']);
    const error = await server.waitUntil(async () => false, 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabError);
    expect((error as Error).message).toMatch(/broken exited \(3\)/);
    expect((error as Error).message).toContain('bind: address in use');
  });

  it('waits for a port on a loopback address and stops the server', async () => {
    const host = randomLoopback();
    const server = new ServerProcess('echo', process.execPath, [
      '-e',
      `require('net').createServer(s => s.end()).listen(0, '${host}', function () { console.log('PORT=' + this.address().port) })`,
    ]);
    await server.waitUntil(async () => /PORT=\d+\n/.test(server.log));
    const port = Number(/PORT=(\d+)/.exec(server.log)![1]);
    expect(await portOpen(host, port)).toBe(true);
    await server.stop();
    expect(server.running).toBe(false);
    expect(await portOpen(host, port)).toBe(false);
  });
});

describe('run and labDir', () => {
  it('reports exit codes and removes the temp dir', async () => {
    const dir = await labDir('t');
    expect((await run('sh', ['-c', 'exit 4'])).code).toBe(4);
    expect((await run('test', ['-d', dir.path])).code).toBe(0);
    await dir.cleanup();
    expect((await run('test', ['-d', dir.path])).code).toBe(1);
  });
});
