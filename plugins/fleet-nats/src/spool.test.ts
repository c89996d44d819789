import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Outbound } from './outbound.js';
import { SPOOL_MAX_LINES, Spool } from './spool.js';

const event = (seq: number): Outbound => ({ kind: 'event', subject: 'certsmith.events.h.failed', msgID: `h.run.${seq}`, data: '{}' });

describe('Spool', () => {
  it('keeps the newest SPOOL_MAX_LINES of what a send left, 0600: a fleet unreachable for months does not fill the disk', async () => {
    const spool = new Spool(join(await mkdtemp(join(tmpdir(), 'certsmith-spool-')), 'fleet-spool.jsonl'));
    const left = Array.from({ length: SPOOL_MAX_LINES + 5 }, (_, i) => event(i));
    await spool.replace(left);
    const kept = await spool.read();
    expect(kept).toHaveLength(SPOOL_MAX_LINES);
    expect(kept[0]).toEqual(event(5));
    expect(kept.at(-1)).toEqual(event(SPOOL_MAX_LINES + 4));
    expect((await stat(spool.file)).mode & 0o777).toBe(0o600);
    await spool.replace([]);
    expect(await spool.holdsAny()).toBe(false);
  });
});
