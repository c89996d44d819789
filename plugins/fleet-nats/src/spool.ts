import { readFile, rm, stat } from 'node:fs/promises';
import { writePrivateFileAtomic } from '@certsmith/core';
import { outboundOf, type Outbound } from './outbound.js';

/** The spool keeps the newest lines only: a fleet unreachable for months must not fill the disk. */
export const SPOOL_MAX_LINES = 20_000;

/**
 * What could not be sent, kept for the next run that reaches NATS: one JSON line each, in a file of the state
 * directory rewritten atomically with mode 0600. Events keep their message ids, so sending one twice stores it once.
 */
export class Spool {
  constructor(readonly file: string) {}

  async add(messages: Outbound[]): Promise<void> {
    if (messages.length === 0) return;
    const kept = [...(await this.read()), ...messages].slice(-SPOOL_MAX_LINES);
    await writePrivateFileAtomic(this.file, kept.map((m) => JSON.stringify(m) + '\n').join(''));
  }

  /** Whether anything waits (a stat only: most runs find no spool). */
  async holdsAny(): Promise<boolean> {
    try {
      return (await stat(this.file)).size > 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Everything spooled, oldest first; lines that are not messages are dropped. */
  async read(): Promise<Outbound[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(outboundOf)
      .filter((m): m is Outbound => m !== null);
  }

  /** Keeps only `left`, the newest SPOOL_MAX_LINES of it (all was sent: the file goes). */
  async replace(left: Outbound[]): Promise<void> {
    if (left.length === 0) await rm(this.file, { force: true });
    else await writePrivateFileAtomic(this.file, linesOf(left.slice(-SPOOL_MAX_LINES)));
  }
}

function linesOf(messages: Outbound[]): string {
  return messages.map((m) => JSON.stringify(m) + '\n').join('');
}
