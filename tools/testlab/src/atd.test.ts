import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { atJobsContaining, ensureAtd, removeAtJobsContaining } from './atd.js';
import { mustRun } from './process.js';

describe('atd (the system queue)', () => {
  const marker = `testlab-atd-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await removeAtJobsContaining(marker);
  });

  it('is running (started when it was not), finds a queued job by a marker in its script, removes it', async () => {
    const { pid } = await ensureAtd();
    expect(() => process.kill(pid, 0)).not.toThrow();
    await mustRun('at', ['-M', 'now', '+', '3', 'hours'], { input: `# ${marker}\ntrue\n` });
    const jobs = await atJobsContaining(marker);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.script).toContain(`# ${marker}`);
    expect(await removeAtJobsContaining(marker)).toBe(1);
    expect(await atJobsContaining(marker)).toEqual([]);
  });
});
