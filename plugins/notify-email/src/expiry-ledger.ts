import { readFile } from 'node:fs/promises';
import { writePrivateFileAtomic } from '@certsmith/core/atomic-file';

/**
 * Remembers when each "will expire in less than 30 days" notice went out (by target, service and certificate
 * fingerprint), so that a certificate kept for weeks under the threshold is not mailed about by every nightly
 * run: the notice is repeated after `repeatDays` (0: every run).
 */
export class ExpiryNoticeLedger {
  private entries: Record<string, string> = {};

  constructor(
    readonly file: string,
    private readonly repeatDays: number,
  ) {}

  async load(): Promise<void> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      this.entries = parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
    } catch {
      this.entries = {}; // missing or damaged: at worst a notice is repeated
    }
  }

  recentlyNoticed(key: string, now: Date): boolean {
    const at = this.entries[key];
    return at !== undefined && now.getTime() - Date.parse(at) < this.repeatDays * 86_400_000;
  }

  /** Records the keys as noticed now and forgets entries older than a year (replaced certificates). */
  async record(keys: string[], now: Date): Promise<void> {
    if (keys.length === 0) return;
    for (const key of keys) this.entries[key] = now.toISOString();
    for (const [key, at] of Object.entries(this.entries)) if (now.getTime() - Date.parse(at) > 366 * 86_400_000) delete this.entries[key];
    await writePrivateFileAtomic(this.file, `${JSON.stringify(this.entries, null, 2)}\n`);
  }
}
