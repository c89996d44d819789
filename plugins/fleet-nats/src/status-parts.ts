// A status over the server's max_payload (a host of more than about 1,000 targets) is kept in parts: each part under
// a key of its own, `<hostkey>.<generation>.<n>` (a host key is one token, so no part key is ever a host's), then a
// small head under the host's key naming the generation, the part count, the size and the SHA-256 of the whole.
import { createHash, randomBytes } from 'node:crypto';

/** Room left under max_payload for the headers a JetStream publish adds (the expected stream, a message id). */
export const HEADER_ROOM = 1_024;

/** The most parts a head may name: a forged head must not make a reader ask for millions of keys. */
export const MAX_PARTS = 10_000;

/** What the host's key holds when its status is in parts. */
export interface StatusHead {
  statusParts: 1;
  generation: string;
  parts: number;
  size: number;
  sha256: string;
}

/** The status as it is written: either one value, or a head and its parts (keys relative to the bucket). */
export type StatusWrite = { value: Uint8Array } | { head: StatusHead; parts: { key: string; value: Uint8Array }[] };

const TOKEN = /^[A-Za-z0-9_-]+$/;
const SHA256 = /^[0-9a-f]{64}$/;

export function partKey(hostKey: string, generation: string, n: number): string {
  return `${hostKey}.${generation}.${n}`;
}

/** Host keys are one token: a key with a dot is a part (or nothing of a host's). */
export function isPartKey(key: string): boolean {
  return key.includes('.');
}

/** The host key a part key is under: its first token. */
export function hostKeyOf(partKey: string): string {
  return partKey.slice(0, partKey.indexOf('.'));
}

/** A fresh generation: one token, different at every write so that a reader never mixes two writes' parts. */
export function newGeneration(): string {
  return randomBytes(6).toString('hex');
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** How many parts a status of `size` bytes takes under `maxPayload`: 0 when it fits as one value (or the max is unknown). */
export function partCount(size: number, maxPayload: number | undefined): number {
  if (!maxPayload || size + HEADER_ROOM <= maxPayload) return 0;
  return Math.ceil(size / Math.max(1, maxPayload - HEADER_ROOM));
}

/**
 * How `value` is written under `hostKey` when no message may exceed `maxPayload`: as it is when it fits (the format
 * every reader knows), else in parts of at most `maxPayload - HEADER_ROOM` bytes and a head. Unknown max: as it is.
 */
export function statusWrite(hostKey: string, value: string, maxPayload: number | undefined, generation: string): StatusWrite {
  const bytes = Buffer.from(value, 'utf8');
  if (!maxPayload || bytes.length + HEADER_ROOM <= maxPayload) return { value: bytes };
  const partSize = Math.max(1, maxPayload - HEADER_ROOM);
  const parts: { key: string; value: Uint8Array }[] = [];
  for (let start = 0, n = 0; start < bytes.length; start += partSize, n++)
    parts.push({ key: partKey(hostKey, generation, n), value: bytes.subarray(start, start + partSize) });
  return { head: { statusParts: 1, generation, parts: parts.length, size: bytes.length, sha256: sha256Of(bytes) }, parts };
}

/** The head a host key's (parsed) value is, or null when it is not one (a status document, or anything else). */
export function headOf(value: unknown): StatusHead | null {
  if (!value || typeof value !== 'object' || (value as { statusParts?: unknown }).statusParts === undefined) return null;
  return value as StatusHead;
}

/** What is wrong with a head (its generation could name keys of another host, its count could be huge), or null. */
export function headProblem(head: StatusHead): string | null {
  if (head.statusParts !== 1) return `its format ${JSON.stringify(head.statusParts)} is not known`;
  if (typeof head.generation !== 'string' || !TOKEN.test(head.generation)) return 'its generation is not one key token';
  if (!Number.isInteger(head.parts) || head.parts < 1 || head.parts > MAX_PARTS) return `its part count is not between 1 and ${MAX_PARTS}`;
  if (!Number.isInteger(head.size) || head.size < 0) return 'its size is not a byte count';
  if (typeof head.sha256 !== 'string' || !SHA256.test(head.sha256)) return 'its sha256 is not a SHA-256 in hex';
  return null;
}

/** The keys of the parts a (sound) head names, in order. */
export function partKeysOf(hostKey: string, head: StatusHead): string[] {
  return Array.from({ length: head.parts }, (_, n) => partKey(hostKey, head.generation, n));
}

/** The whole status from its parts, or what is wrong with them (their size or hash is not the head's). */
export function joinParts(head: StatusHead, parts: Uint8Array[]): { text: string } | { problem: string } {
  const whole = Buffer.concat(parts);
  if (whole.length !== head.size) return { problem: `its parts hold ${whole.length} bytes, not the ${head.size} its head names` };
  if (sha256Of(whole) !== head.sha256) return { problem: 'its parts do not have the sha256 its head names' };
  return { text: whole.toString('utf8') };
}

/**
 * The stream purge filters that remove every part under `hostKey` but those of `keep`, from the subjects the bucket's
 * stream holds there (`prefix` is the host key's subject and a dot): one filter per other generation.
 */
export function staleFilters(prefix: string, subjects: string[], keep: string | undefined): string[] {
  const filters = new Set<string>();
  for (const subject of subjects) {
    if (!subject.startsWith(prefix)) continue;
    const rest = subject.slice(prefix.length);
    const generation = rest.split('.')[0]!;
    if (generation === keep) continue;
    filters.add(rest === generation ? subject : `${prefix}${generation}.>`);
  }
  return [...filters];
}
