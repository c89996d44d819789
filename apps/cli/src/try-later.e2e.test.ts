// `certsmith try-later` end to end on the real at queue (atd from Debian; its spool is the system one, so every
// job this file queues carries its own tag and is removed afterwards).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atJobsContaining, ensureAtd, labDir, removeAtJobsContaining, runCli, sleep } from '@certsmith/testlab';

const tag = `e2e-${randomBytes(4).toString('hex')}`;
let dir: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  await ensureAtd();
  dir = await labDir('try-later-e2e');
});
afterAll(async () => {
  await removeAtJobsContaining(tag);
  await dir?.cleanup();
});

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text) return text;
    await sleep(100);
  }
  return '';
}

describe('certsmith try-later', () => {
  it("queues cPanel's retry (--skip-first, --delay 60, --max-retries 1) as a tagged at job, lists it with --has-jobs", async () => {
    const out = join(dir.path, 'never.txt');
    const queued = await runCli([
      'try-later',
      '--action',
      `echo ran > ${out}`,
      '--check',
      '/bin/sh -c exit 1',
      '--delay',
      '60',
      '--max-retries',
      '1',
      '--skip-first',
      '--tag',
      `${tag}-a`,
    ]);
    expect(queued.stderr).toBe('');
    expect(queued.stdout).toMatch(new RegExp(`^try-later: queued job \\d+ at \\S+ \\(${tag}-a\\), 0 retries left after it\\n$`));
    expect(queued.code).toBe(0);
    const [job] = await atJobsContaining(`${tag}-a`);
    expect(job).toBeDefined();
    expect(job!.script).toContain(`# certsmith-job: ${tag}-a`);
    expect(job!.script).toContain("try-later --action 'echo ran > ");
    expect(job!.script).toContain('--max-retries 0');
    const has = await runCli(['try-later', '--has-jobs', '--tag', `${tag}-a`]);
    expect(has.stdout).toContain(`job ${job!.id} at `);
    expect(has.code).toBe(0);
    await removeAtJobsContaining(`${tag}-a`);
    const none = await runCli(['try-later', '--has-jobs', '--tag', `${tag}-a`]);
    expect(none.stdout).toBe('no try-later jobs queued\n');
    expect(none.code).toBe(1);
  });

  it('the queued attempt really runs through atd: check passes, action runs', async () => {
    const out = join(dir.path, 'ran.txt');
    const queued = await runCli([
      'try-later',
      '--action',
      `echo "ran $((1+1))" > ${out}`,
      '--check',
      'test -d /',
      '--at',
      'now',
      '--max-retries',
      '1',
      '--skip-first',
      '--tag',
      `${tag}-b`,
    ]);
    expect(queued.code).toBe(0);
    expect(await waitForFile(out)).toBe('ran 2\n');
  });

  it('runs the action at once when the check passes, queues a retry when it fails, and --act-finally acts when none is left', async () => {
    const now = join(dir.path, 'now.txt');
    const passed = await runCli(['try-later', '--action', `echo now > ${now}`, '--check', 'true', '--tag', `${tag}-c`]);
    expect(passed.code).toBe(0);
    expect(await readFile(now, 'utf8')).toBe('now\n');

    const failed = await runCli(['try-later', '--action', 'true', '--check', 'false', '--delay', '30', '--max-retries', '2', '--tag', `${tag}-d`]);
    expect(failed.stdout).toContain('1 retry left after it');
    expect(await atJobsContaining(`${tag}-d`)).toHaveLength(1);

    const final = join(dir.path, 'final.txt');
    const finally_ = await runCli([
      'try-later',
      '--action',
      `echo final > ${final}`,
      '--check',
      'false',
      '--max-retries',
      '0',
      '--act-finally',
      '--tag',
      `${tag}-e`,
    ]);
    expect(finally_.stdout).toContain('running the action anyway (--act-finally)');
    expect(await readFile(final, 'utf8')).toBe('final\n');
    const gaveUp = await runCli(['try-later', '--action', 'true', '--check', 'exit 3', '--max-retries', '0', '--tag', `${tag}-f`]);
    expect(gaveUp.stderr).toBe('certsmith try-later: the check failed (exit 3) and no retries are left\n');
    expect(gaveUp.code).toBe(1);
  });

  it('refuses bad options with exit 2 and one line', async () => {
    expect((await runCli(['try-later', '--check', 'true'])).stderr).toBe(
      'certsmith try-later: USAGE: --action: is required (see certsmith try-later --help)\n',
    );
    const delay = await runCli(['try-later', '--action', 'true', '--delay', 'soon']);
    expect(delay.stderr).toBe(
      'certsmith try-later: USAGE: --delay: must be a whole number of minutes (1 or more), not "soon" (see certsmith try-later --help)\n',
    );
    expect(delay.code).toBe(2);
    expect((await runCli(['try-later', '--action', 'true', '--max-retries', '-1'])).code).toBe(2);
    expect((await runCli(['try-later', '--action', 'true', '--at', 'now; rm -rf /'])).code).toBe(2);
  });
});
