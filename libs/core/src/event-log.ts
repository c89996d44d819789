import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from './contracts.js';
import type { Bus } from './events.js';
import { onEveryEvent } from './report.js';

export interface EventLogOptions {
  /** config.paths.logDir; created (0700) when missing. */
  dir: string;
  /** Logs of runs that started more than this many days ago are removed when a run opens its log. */
  keepDays: number;
  clock: Clock;
}

const NAME = /^certsmith-(\d{8}T\d{6})Z-\d+(?:-\d+)?\.jsonl$/;

/**
 * One JSON line per lifecycle event, one file per run (like cPanel's AutoSSL logs), so that an administrator
 * can read afterwards exactly what a run saw and did. Lines are written synchronously: a run that dies
 * half-way still leaves every event before the crash on disk, in order.
 */
export class EventLog {
  private fd: number | null;
  private seq = 0;

  private constructor(
    readonly file: string,
    fd: number,
    private readonly clock: Clock,
    readonly pruned: string[],
  ) {
    this.fd = fd;
  }

  static async open(options: EventLogOptions): Promise<EventLog> {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const now = options.clock.now();
    const pruned = await prune(options.dir, now, options.keepDays);
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, '');
    for (let attempt = 0; ; attempt++) {
      const file = join(options.dir, `certsmith-${stamp}Z-${process.pid}${attempt ? `-${attempt}` : ''}.jsonl`);
      try {
        const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600);
        await chmod(file, 0o600); // whatever the umask: events name files and hosts, not for everyone
        return new EventLog(file, fd, options.clock, pruned);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
      }
    }
  }

  /** Appends every lifecycle event of the bus from now on. */
  attach(bus: Bus): void {
    onEveryEvent(bus, (type, event) => this.record(type, event));
  }

  /**
   * Appends one line: a lifecycle event, or a run-level record ('run-started', 'run-finished', 'notified').
   * A log that cannot be written (disk full) is reported once on stderr and closed; the run goes on.
   */
  record(type: string, event: unknown): void {
    if (this.fd === null) return;
    const record = { at: this.clock.now().toISOString(), seq: ++this.seq, type, event };
    // A replacer costs a call per key and value (a fifth of the healthy path's logging): only a line that names a
    // secret field or holds a private key is written again through it; the others are the same either way.
    let line = JSON.stringify(record);
    if (MAY_HOLD_SECRET.test(line)) line = JSON.stringify(record, redact);
    try {
      writeSync(this.fd, `${line}\n`);
    } catch (error) {
      process.stderr.write(
        `certsmith: the event log ${this.file} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); no more events are logged in it\n`,
      );
      this.close();
    }
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      closeSync(fd);
    } catch {
      // nothing more to save
    }
  }
}

/** Names of fields that hold secrets; their values never reach the log, whoever put them on an event. */
const SECRET_FIELDS = new Set(['keyPem', 'privateKey', 'password', 'pass', 'secret', 'hmacKey', 'eabKey', 'tsigSecret']);
/** What redact() would change is in the plain JSON as `"<field>":` or the PEM armour. */
const MAY_HOLD_SECRET = new RegExp(`"(?:${[...SECRET_FIELDS].join('|')})":|PRIVATE KEY-----`);

function redact(key: string, value: unknown): unknown {
  if (SECRET_FIELDS.has(key) && value !== undefined && value !== null) return '[redacted]';
  if (typeof value === 'string' && value.includes('PRIVATE KEY-----')) {
    return value.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted private key]');
  }
  return value;
}

/** Removes run logs whose run started more than keepDays before now; returns their paths. */
async function prune(dir: string, now: Date, keepDays: number): Promise<string[]> {
  const limit = now.getTime() - keepDays * 86_400_000;
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const match = NAME.exec(name);
    if (!match) continue;
    const s = match[1]!;
    const started = Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13), +s.slice(13, 15));
    if (started < limit) {
      await rm(join(dir, name), { force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}
