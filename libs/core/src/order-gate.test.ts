import { describe, expect, it } from 'vitest';
import { OrderGate } from './order-gate.js';

describe('OrderGate', () => {
  it('lets no more than its limit through at once, in the order they came, and passes a place on when one fails', async () => {
    const gate = new OrderGate(2);
    let inside = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const work = (i: number) =>
      gate.through(async () => {
        started.push(i);
        most = Math.max(most, ++inside);
        await new Promise<void>((resolve) => releases.push(resolve));
        inside--;
        if (i === 0) throw new Error('order 0 failed');
        return i;
      });
    const all = Array.from({ length: 5 }, (_, i) => work(i).catch((error: Error) => error.message));
    for (let done = 0; done < 5; done++) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()!();
    }
    expect(await Promise.all(all)).toEqual(['order 0 failed', 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });
});
