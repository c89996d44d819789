import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { completeConfig, type CertsmithConfig } from './config/config.js';
import { readLastRun, recordLastRun } from './last-run.js';
import type { RunReport, TargetReport } from './report.js';

let dir: string;
let config: CertsmithConfig;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certsmith-last-run-'));
  config = completeConfig(
    {
      hostname: 'host.test',
      paths: { stateDir: './state' },
      targets: [
        { id: 'a', names: ['a.test', 'www.a.test'] },
        { id: 'b', names: ['b.test'] },
      ],
    },
    join(dir, 'config.json'),
  );
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const summary = { serial: '0a', fingerprint: 'ff', issuer: 'CN=Test CA' } as never;
function target(id: string, fields: Partial<TargetReport>): TargetReport {
  return { target: id, names: [], result: 'healthy', services: [], validations: [], failures: [], actions: [], ...fields };
}
function report(finishedAt: string, targets: TargetReport[], dryRun = false): RunReport {
  return { hostname: 'host.test', startedAt: '2026-01-01T00:00:00.000Z', finishedAt, dryRun, targets, exitCode: 0 };
}

describe('the last-run record', () => {
  it('keeps per target the result, the dropped names with their reason and the issued certificate (0600)', async () => {
    await recordLastRun(
      config,
      report('2026-01-01T00:01:00.000Z', [
        target('a', {
          result: 'replaced',
          actions: ['issued'],
          issued: { target: 'a', issuer: 'acme', status: 'issued', summary, chain: [], selfSigned: false, profile: 'shortlived' },
          validations: [
            { target: 'a', name: 'a.test', ok: true, method: 'http' },
            { target: 'a', name: 'www.a.test', ok: false, method: 'http', code: 'DCV_HTTP_NOT_FOUND', reason: 'HTTP 404' },
          ],
          failures: [
            { stage: 'validate', target: 'a', name: 'www.a.test', code: 'DCV_HTTP_NOT_FOUND', message: 'HTTP 404', next: 'leave it out', severity: 'warning' },
            {
              stage: 'validate',
              target: 'a',
              name: 'a.test',
              code: 'AAAA_UNREACHABLE',
              message: 'no answer on ::1',
              next: 'keep the name in the order',
              severity: 'warning',
            },
            { stage: 'issue', target: 'a', name: 'shop.a.test', code: 'CAA_FORBIDS', message: 'CAA forbids acme', next: 'leave it out', severity: 'warning' },
          ],
        }),
        target('b', {}),
      ]),
    );
    const file = join(dir, 'state', 'last-run.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const record = await readLastRun(config.paths.stateDir);
    expect(record?.run).toEqual({ startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', exitCode: 0, targets: 2 });
    expect(record?.targets.a).toMatchObject({
      at: '2026-01-01T00:01:00.000Z',
      result: 'replaced',
      dropped: [
        { name: 'www.a.test', code: 'DCV_HTTP_NOT_FOUND', reason: 'HTTP 404' },
        { name: 'shop.a.test', code: 'CAA_FORBIDS', reason: 'CAA forbids acme' },
      ],
      issued: { issuer: 'acme', serial: '0a', issuerName: 'CN=Test CA', fingerprint: 'ff', profile: 'shortlived', at: '2026-01-01T00:01:00.000Z' },
    });
    expect(record?.targets.b).toEqual({ at: '2026-01-01T00:01:00.000Z', result: 'healthy', actions: [], dropped: [], failures: [] });
  });

  it('a later run over one target keeps the others; a healthy run carries the dropped names and issued certificate over', async () => {
    const dropped = [{ target: 'a', name: 'www.a.test', ok: false, method: 'http', reason: 'HTTP 404' }];
    await recordLastRun(
      config,
      report('2026-01-01T00:01:00.000Z', [
        target('a', {
          result: 'replaced',
          validations: dropped,
          issued: { target: 'a', issuer: 'acme', status: 'issued', summary, chain: [], selfSigned: false },
        }),
        target('b', { result: 'failed' }),
      ]),
    );
    await recordLastRun(config, report('2026-01-02T00:00:00.000Z', [target('a', {})]));
    const record = await readLastRun(config.paths.stateDir);
    expect(record?.run.finishedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(record?.targets.a).toMatchObject({ at: '2026-01-02T00:00:00.000Z', result: 'healthy', dropped: [{ name: 'www.a.test', code: 'DCV_FAILED' }] });
    expect(record?.targets.a?.issued?.issuer).toBe('acme');
    expect(record?.targets.b).toMatchObject({ at: '2026-01-01T00:01:00.000Z', result: 'failed' });
  });

  it('a dry run records nothing; a target gone from the config is forgotten', async () => {
    await recordLastRun(config, report('2026-01-01T00:01:00.000Z', [target('a', {})], true));
    expect(await readLastRun(config.paths.stateDir)).toBeNull();
    await recordLastRun(config, report('2026-01-01T00:01:00.000Z', [target('a', {}), target('gone', {})]));
    expect(Object.keys((await readLastRun(config.paths.stateDir))!.targets)).toEqual(['a']);
  });

  it('a file edited into nonsense is STATE_INVALID naming the file and what is wrong; the next run replaces it', async () => {
    await recordLastRun(config, report('2026-01-01T00:01:00.000Z', [target('a', {})]));
    const file = join(dir, 'state', 'last-run.json');
    await writeFile(file, '{"version": 1,');
    await expect(readLastRun(config.paths.stateDir)).rejects.toThrow(new RegExp(`^${file}: not JSON \\(`));
    await writeFile(file, JSON.stringify({ version: 1, run: { startedAt: 'x', finishedAt: 'y', exitCode: 0 }, targets: {} }));
    await expect(readLastRun(config.paths.stateDir)).rejects.toMatchObject({
      code: 'STATE_INVALID',
      message: `${file}: "run" is not an object with startedAt, finishedAt and exitCode`,
    });
    await writeFile(
      file,
      JSON.stringify({ version: 1, run: { startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:00Z', exitCode: 0 }, targets: { a: { at: 5 } } }),
    );
    await expect(readLastRun(config.paths.stateDir)).rejects.toThrow(`${file}: "targets.a.at" is not a date (5)`);
    await recordLastRun(config, report('2026-01-03T00:00:00.000Z', [target('a', {})]));
    expect((await readLastRun(config.paths.stateDir))?.run.finishedAt).toBe('2026-01-03T00:00:00.000Z');
  });
});
