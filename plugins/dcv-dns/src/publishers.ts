import type { IterativeResolver } from '@certsmith/dns';

/** The record a challenge needs: one TXT value or one CNAME target at an owner name. */
export interface ChallengeRecord {
  owner: string;
  type: 'TXT' | 'CNAME';
  value: string;
  ttl: number;
  /** Tells this record apart from others at the same owner (zone-file mode marks its line with it). */
  marker: string;
}

/**
 * Puts a record into a zone and takes it out again. add() either completes or throws having undone
 * what it did; remove() takes out only this record, never other values at the same owner.
 */
export interface ZonePublisher {
  /** How and where records of this zone are published, for the dcv-created event and messages. */
  describe(zone: string): string;
  add(zone: string, record: ChallengeRecord, signal: AbortSignal): Promise<void>;
  remove(zone: string, record: ChallengeRecord, signal: AbortSignal): Promise<void>;
}

export type { IterativeResolver };
