import { describe, expect, it } from 'vitest';
import { startBoth } from './start-together.js';

const server = (stopped: string[], name: string) => ({ name, stop: async () => void stopped.push(name) });

describe('startBoth', () => {
  it('gives both servers when both start, and stops neither', async () => {
    const stopped: string[] = [];
    const [a, b] = await startBoth(Promise.resolve(server(stopped, 'a')), Promise.resolve(server(stopped, 'b')));
    expect([a.name, b.name]).toEqual(['a', 'b']);
    expect(stopped).toEqual([]);
  });

  it('stops the one that started when the other fails, then throws the failure', async () => {
    const stopped: string[] = [];
    const late = new Promise<ReturnType<typeof server>>((resolve) => setImmediate(() => resolve(server(stopped, 'late'))));
    await expect(startBoth(Promise.reject(new Error('BIND did not start')), late)).rejects.toThrow('BIND did not start');
    expect(stopped).toEqual(['late']);
    await expect(startBoth(Promise.resolve(server(stopped, 'first')), Promise.reject(new Error('no unbound')))).rejects.toThrow('no unbound');
    expect(stopped).toEqual(['late', 'first']);
  });
});
