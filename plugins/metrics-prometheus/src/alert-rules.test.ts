// The shipped alert rules, checked and unit-tested by Debian's promtool (the prometheus package).
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '@certsmith/testlab';

const PROMTOOL = '/usr/bin/promtool';
const ALERTS = fileURLToPath(new URL('../alerts/', import.meta.url));

describe('alerts/certsmith.rules.yml', () => {
  beforeAll(async () => {
    await access(PROMTOOL).catch(() => {
      throw new Error(`${PROMTOOL} is missing: install Debian's "prometheus" package (apt-get install prometheus) to test the alert rules`);
    });
  });

  it('is a valid rules file (promtool check rules)', async () => {
    const result = await run(PROMTOOL, ['check', 'rules', 'certsmith.rules.yml'], { cwd: ALERTS });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCESS: 6 rules found');
  });

  it('fires each alert when it should and not before (promtool test rules)', async () => {
    const result = await run(PROMTOOL, ['test', 'rules', 'certsmith.rules.test.yml'], { cwd: ALERTS });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });
});
