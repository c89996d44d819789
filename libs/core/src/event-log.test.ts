import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLog } from './event-log.js';
import { createBus } from './events.js';

describe('EventLog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-eventlog-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const at = (iso: string) => ({ now: () => new Date(iso) });

  it('appends every lifecycle event as one JSON line, in order, to a 0600 file of its own', async () => {
    const logDir = join(dir, 'logs');
    const log = await EventLog.open({ dir: logDir, keepDays: 30, clock: at('2026-11-25T01:02:03.456Z') });
    const bus = createBus();
    log.attach(bus);
    log.record('run-started', { hostname: 'host.example.test' });
    bus.emit('validated', { target: 'hostname', name: 'host.example.test', ok: true, method: 'http-file' });
    bus.emit('failed', { stage: 'issue', target: 'hostname', code: 'CA_UNREACHABLE', message: 'no route', next: 'self-signed fallback', severity: 'warning' });
    log.close();
    log.record('late', {}); // after close: ignored, not thrown

    expect(log.file).toBe(join(logDir, `certsmith-20261125T010203Z-${process.pid}.jsonl`));
    expect((await stat(log.file)).mode & 0o777).toBe(0o600);
    expect((await stat(logDir)).mode & 0o777).toBe(0o700);
    const lines = (await readFile(log.file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; seq: number; at: string; event: Record<string, unknown> });
    expect(lines.map((l) => l.type)).toEqual(['run-started', 'validated', 'failed']);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(lines[0]!.at).toBe('2026-11-25T01:02:03.456Z');
    expect(lines[2]!.event).toMatchObject({ code: 'CA_UNREACHABLE', next: 'self-signed fallback' });
  });

  it('gives two runs in the same second two files', async () => {
    const clock = at('2026-11-25T01:02:03Z');
    const a = await EventLog.open({ dir, keepDays: 30, clock });
    const b = await EventLog.open({ dir, keepDays: 30, clock });
    a.close();
    b.close();
    expect(a.file).not.toBe(b.file);
    expect((await readdir(dir)).sort()).toHaveLength(2);
  });

  it('removes the logs of runs older than keepDays and keeps the rest and foreign files', async () => {
    const old = join(dir, 'certsmith-20261020T000000Z-11.jsonl');
    const recent = join(dir, 'certsmith-20261120T000000Z-12.jsonl');
    const foreign = join(dir, 'notes.txt');
    for (const f of [old, recent, foreign]) await writeFile(f, '');
    const log = await EventLog.open({ dir, keepDays: 30, clock: at('2026-11-25T00:00:00Z') });
    log.close();
    expect(log.pruned).toEqual([old]);
    expect((await readdir(dir)).sort()).toEqual([foreign, log.file, recent].map((f) => f.slice(dir.length + 1)).sort());
  });

  it('stops logging, without throwing, when the file cannot be written', async () => {
    const log = await EventLog.open({ dir, keepDays: 1, clock: at('2026-11-25T00:00:00Z') });
    const fd = (log as unknown as { fd: number }).fd;
    closeSync(fd); // as if the disk went away
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(() => log.record('inspect', {})).not.toThrow();
    expect(() => log.record('inspect', {})).not.toThrow();
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0]![0])).toMatch(/the event log .* cannot be written \(EBADF\)/);
    stderr.mockRestore();
  });

  it('never writes a private key or a secret field, whoever put it on an event', async () => {
    const log = await EventLog.open({ dir, keepDays: 1, clock: at('2026-11-25T00:00:00Z') });
    const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPLANTED\n-----END PRIVATE KEY-----';
    log.record('odd', { message: `oops ${key} after`, password: 'hunter2-planted', nested: { keyPem: 'x' } });
    log.close();
    const text = await readFile(log.file, 'utf8');
    expect(text).not.toContain('PLANTED');
    expect(text).not.toContain('hunter2-planted');
    expect(text).toContain('[redacted private key]');
    expect(JSON.parse(text)).toMatchObject({
      event: { message: 'oops [redacted private key] after', password: '[redacted]', nested: { keyPem: '[redacted]' } },
    });
  });
});
