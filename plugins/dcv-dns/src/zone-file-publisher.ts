import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { CertsmithError, UsageError } from '@certsmith/core';
import { writeFileAtomic } from '@certsmith/core/atomic-file';
import { fqdn, normalizeName } from '@certsmith/dns';
import type { ChallengeRecord, ZonePublisher } from './publishers.js';

export interface ZoneFileOptions {
  /** Zone name → its zone file on this server. */
  zoneFiles: Record<string, string>;
  /** argv run after each edit; `{zone}` is replaced by the zone name. Default: rndc reload {zone}. */
  reloadCommand: string[];
  reloadTimeoutMs: number;
  /** Today, for date-based (YYYYMMDDnn) serials. */
  now?: () => Date;
}

/**
 * Publishes by editing the zone file and reloading the zone (`rndc reload <zone>`), for servers without
 * dynamic updates. Every edit raises the SOA serial (so secondaries transfer the change) and is undone when
 * the reload fails. Edits of one file are serialized. A zone with a journal (dynamic updates) must not be
 * edited this way: use the nsupdate mode there.
 */
export class ZoneFilePublisher implements ZonePublisher {
  private readonly files = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ZoneFileOptions) {
    for (const [zone, file] of Object.entries(options.zoneFiles)) this.files.set(normalizeName(zone), file);
  }

  describe(zone: string): string {
    return `zone file ${this.files.get(zone) ?? '(none)'} of zone ${fqdn(zone)}, then ${this.command(zone).join(' ')}`;
  }

  add(zone: string, record: ChallengeRecord): Promise<void> {
    return this.edit(zone, (text) => `${text.replace(/\n?$/, '\n')}${lineFor(record)}\n`);
  }

  /** Removes this record, and any copy of the same record that an earlier, interrupted run left (same owner, type and data). */
  remove(zone: string, record: ChallengeRecord): Promise<void> {
    const same = `${recordText(record)} ; certsmith-dcv `;
    return this.edit(zone, (text) =>
      text
        .split('\n')
        .filter((line) => !line.startsWith(same))
        .join('\n'),
    );
  }

  private command(zone: string): string[] {
    return this.options.reloadCommand.map((arg) => arg.replaceAll('{zone}', zone));
  }

  private edit(zone: string, change: (text: string) => string): Promise<void> {
    const file = this.files.get(zone);
    if (!file) {
      return Promise.reject(
        new UsageError('DNS_DCV_NO_ZONE_FILE', `dcv-dns (zonefile mode): no zone file configured for zone ${fqdn(zone)} (add it to "zoneFiles")`),
      );
    }
    const previous = this.locks.get(file) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const before = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new CertsmithError('DNS_ZONE_FILE_UNREADABLE', `${file}: cannot read the zone file of ${fqdn(zone)} (${error.code ?? error.message})`);
        });
        const after = bumpSerial(change(before), file, this.options.now?.() ?? new Date());
        await replaceFile(file, after);
        const reload = await runCommand(this.command(zone), this.options.reloadTimeoutMs);
        if (reload) {
          await replaceFile(file, before);
          await runCommand(this.command(zone), this.options.reloadTimeoutMs);
          throw new CertsmithError(
            'DNS_ZONE_RELOAD_FAILED',
            `${this.command(zone).join(' ')} failed for zone ${fqdn(zone)} (the zone file was restored): ${reload}`,
          );
        }
      });
    this.locks.set(file, run);
    return run;
  }
}

function tagOf(record: ChallengeRecord): string {
  return `; certsmith-dcv ${record.marker}`;
}

function recordText(record: ChallengeRecord): string {
  const data = record.type === 'TXT' ? txtStrings(record.value) : fqdn(normalizeName(record.value));
  return `${fqdn(normalizeName(record.owner))} ${record.ttl} IN ${record.type} ${data}`;
}

function lineFor(record: ChallengeRecord): string {
  return `${recordText(record)} ${tagOf(record)}`;
}

/** Quoted character-strings of at most 255 bytes each, with quotes and backslashes escaped. */
function txtStrings(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || parts.length === 0; i += 255) {
    parts.push(
      `"${bytes
        .subarray(i, i + 255)
        .toString('utf8')
        .replace(/[\\"]/g, (c) => `\\${c}`)}"`,
    );
  }
  return parts.join(' ');
}

/**
 * Raises the SOA serial: a date serial (YYYYMMDDnn) moves to today's first number when that is higher, any
 * other serial goes up by one; both wrap as RFC 1982 serial arithmetic allows.
 */
export function bumpSerial(text: string, file: string, now: Date): string {
  const soa = /(\bSOA\s+\S+\s+\S+\s*(?:\(\s*)?(?:;[^\n]*\n\s*)*)(\d+)/i.exec(text);
  if (!soa) throw new CertsmithError('DNS_ZONE_FILE_INVALID', `${file}: no SOA record with a serial found`);
  const old = Number(soa[2]);
  const today = Number(`${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}${String(now.getUTCDate()).padStart(2, '0')}00`);
  const dateLike = /^(19|20)\d{6}\d{2}$/.test(soa[2]!);
  let next = dateLike && today > old ? today : old + 1;
  if (next > 0xffffffff) next = (old + 1) % 2 ** 32;
  const at = soa.index + soa[1]!.length;
  return `${text.slice(0, at)}${next}${text.slice(at + soa[2]!.length)}`;
}

/** Writes beside the file and renames over it, keeping its mode and owner: named never reads half a file. */
async function replaceFile(file: string, text: string): Promise<void> {
  const info = await stat(file);
  const owner = process.getuid?.() === 0 ? { uid: info.uid, gid: info.gid } : {};
  await writeFileAtomic(file, text, { mode: info.mode & 0o777, ...owner });
}

/** Runs the reload; returns null on success, else what went wrong (with the command's own output). */
function runCommand(argv: string[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve(null);
      const output = `${stderr}${stdout}`.trim().split('\n').slice(-3).join(' / ');
      resolve(`${typeof error.code === 'number' ? `exit ${error.code}` : error.message}${output ? `: ${output}` : ''}`);
    });
  });
}
