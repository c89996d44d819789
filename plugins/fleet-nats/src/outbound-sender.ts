import type { StorageType } from '@nats-io/jetstream';
import type { Ask } from './fleet-connection.js';
import { isApiError, isNoStream, isStreamNotFound } from './js-errors.js';
import { EVENT_SUBJECTS, kvStream, kvSubject } from './names.js';
import { DEFAULT_EVENT_RETENTION_DAYS } from './options.js';
import { DUPLICATE_WINDOW_NS, type Outbound } from './outbound.js';
import { newGeneration, staleFilters, statusWrite } from './status-parts.js';

/** The stream could not be found or made (no permission, no JetStream): its events wait in the spool. */
export class StreamUnavailable extends Error {
  constructor(stream: string, cause: unknown) {
    super(`the event stream ${stream} cannot be used (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'StreamUnavailable';
  }
}

const DAY_NS = 86_400 * 1_000_000_000;

/**
 * Makes the event stream when it is missing, with the duplicate window that makes a re-send harmless, and a maximum
 * age (`retentionDays`): the stream does not grow without end. A stream already there is left as it is.
 */
export async function ensureStream(ask: Ask, stream: string, retentionDays = DEFAULT_EVENT_RETENTION_DAYS): Promise<void> {
  const maxAge = Math.max(retentionDays * DAY_NS, DUPLICATE_WINDOW_NS);
  try {
    await ask(async ({ manager }) => {
      const jsm = await manager();
      return jsm.streams.info(stream).catch(async (error: unknown) => {
        if (!isStreamNotFound(error)) throw error;
        return jsm.streams.add({
          name: stream,
          subjects: [EVENT_SUBJECTS],
          duplicate_window: DUPLICATE_WINDOW_NS,
          max_age: maxAge,
          storage: 'file' as StorageType,
        });
      });
    });
  } catch (error) {
    // The server answered and said no (a permission, a limit); no answer at all is NATS being unreachable.
    if (isApiError(error)) throw new StreamUnavailable(stream, error);
    throw error;
  }
}

export interface SendOutcome {
  /** The messages not acknowledged, in their order. */
  refused: Outbound[];
  /** Why the events were refused when their stream could not be made. */
  unavailable?: StreamUnavailable;
}

export interface SendOptions {
  /** The server's max_payload: a status over it (less HEADER_ROOM) is written in parts. Unknown: as it is. */
  maxPayload?: number;
  /**
   * Whether parts of an earlier status may be under a key though this status fits (the last report was in parts, or
   * no record says): only then is the bucket's stream looked at for them, a round trip a report otherwise saves.
   */
  partsMayRemain?: boolean;
  /** Told when a status was written but its old parts could not be removed (the next report tries again). */
  staleParts?: (key: string, error: unknown) => void;
  /** How many days the event stream keeps an event, should it have to be made (default 30). */
  eventRetentionDays?: number;
  /** Told of each status acknowledged: written in parts or as one value. */
  written?: (key: string, inParts: boolean) => void;
  /**
   * Awaited before the first part of a status is written: a run killed between its parts and its head must leave a
   * record saying that parts may remain, or nobody would look for them. Its failure fails the write.
   */
  partsStarting?: (key: string) => Promise<void>;
}

/**
 * Sends the messages side by side, each straight to its subject with the stream that must store it expected (an event
 * to the event stream, a status to its key's subject in the bucket's stream, as a KV put does): no round trip looks a
 * stream up first. Only when no stream took a message (the stream or the bucket is missing) is it made, and the
 * message sent again.
 */
export async function sendOutbound(ask: Ask, stream: string, messages: Outbound[], options: SendOptions = {}): Promise<SendOutcome> {
  const outcomes = await publishAll(ask, stream, messages, options);
  const missing = messages.filter((_, i) => isNoStream(outcomes[i]));
  let unavailable: StreamUnavailable | undefined;
  if (missing.length > 0) {
    const made = await makeStreams(ask, stream, missing, options.eventRetentionDays);
    unavailable = made.unavailable;
    const again = made.ready.length > 0 ? await publishAll(ask, stream, made.ready, options) : [];
    made.ready.forEach((m, i) => (outcomes[messages.indexOf(m)] = again[i]));
  }
  return { refused: messages.filter((_, i) => outcomes[i] !== undefined), unavailable };
}

/** Each message's failure, or undefined when it was acknowledged. */
async function publishAll(ask: Ask, stream: string, messages: Outbound[], options: SendOptions): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(
    messages.map((m) =>
      m.kind === 'event' ? ask(({ js }) => js.publish(m.subject, m.data, { msgID: m.msgID, expect: { streamName: stream } })) : writeStatus(ask, m, options),
    ),
  );
  return outcomes.map((o) => (o.status === 'rejected' ? ((o.reason as unknown) ?? new Error('refused')) : undefined));
}

type StatusOutbound = Extract<Outbound, { kind: 'status' }>;

/**
 * Writes a status under its key: as one value when it fits, else its parts, each acknowledged, and only then the head
 * that names them, so that a reader always finds a head whose parts are there. Once the host's key is acknowledged,
 * the parts of any other generation (the previous one, or all when the status fits again) stored before that key are
 * purged: the bucket keeps no tombstone of them. Rejects with the first failure of a part or the head; a failed purge
 * is only told.
 */
async function writeStatus(ask: Ask, m: StatusOutbound, options: SendOptions): Promise<void> {
  const put = (key: string, value: Uint8Array) => ask(({ js }) => js.publish(kvSubject(m.bucket, key), value, { expect: { streamName: kvStream(m.bucket) } }));
  const write = statusWrite(m.key, m.value, options.maxPayload, newGeneration());
  let stored: { seq: number };
  if ('value' in write) stored = await put(m.key, write.value);
  else {
    await options.partsStarting?.(m.key);
    await Promise.all(write.parts.map((part) => put(part.key, part.value)));
    stored = await put(m.key, new TextEncoder().encode(JSON.stringify(write.head)));
  }
  const keep = 'head' in write ? write.head.generation : undefined;
  options.written?.(m.key, keep !== undefined);
  if (keep === undefined && !options.partsMayRemain) return;
  await purgeStaleParts(ask, m, keep, stored.seq).catch((error: unknown) => {
    // A host without the right to look (a fleet that gave it KV puts only) and whose status fits is not told at every
    // report: parts it may have left beside its value are ignored by readers. One that writes parts is told.
    if (keep !== undefined || !isPermissionViolation(error)) options.staleParts?.(m.key, error);
  });
}

/**
 * Purges the parts under the status's key but those of `keep`: one look at the subjects there, a purge per generation.
 * Only what the stream stored before `below` (the sequence of this write's key) goes: parts another run of this host
 * writes meanwhile (a manual check beside a timer's run) are newer than this head and are left to the head they wait for.
 */
async function purgeStaleParts(ask: Ask, m: StatusOutbound, keep: string | undefined, below: number): Promise<void> {
  const streamName = kvStream(m.bucket);
  const prefix = `${kvSubject(m.bucket, m.key)}.`;
  const info = await ask(async ({ manager }) => (await manager()).streams.info(streamName, { subjects_filter: `${prefix}>` }));
  const filters = staleFilters(prefix, Object.keys(info.state.subjects ?? {}), keep);
  await Promise.all(filters.map((filter) => ask(async ({ manager }) => (await manager()).streams.purge(streamName, { filter, seq: below }))));
}

/** Makes the event stream and the buckets the messages need; returns the messages whose stream is there now. */
async function makeStreams(
  ask: Ask,
  stream: string,
  missing: Outbound[],
  retentionDays?: number,
): Promise<{ ready: Outbound[]; unavailable?: StreamUnavailable }> {
  const buckets = [...new Set(missing.flatMap((m) => (m.kind === 'status' ? [m.bucket] : [])))];
  let unavailable: StreamUnavailable | undefined;
  const [events, ...made] = await Promise.allSettled([
    missing.some((m) => m.kind === 'event') ? ensureStream(ask, stream, retentionDays) : Promise.resolve(),
    // Opening a bucket with the KV client makes it when it is missing.
    ...buckets.map((name) => ask(({ bucket }) => bucket(name))),
  ]);
  if (events!.status === 'rejected') {
    if (!(events!.reason instanceof StreamUnavailable)) throw events!.reason;
    unavailable = events!.reason;
  }
  const madeBuckets = new Set(buckets.filter((_, i) => made[i]!.status === 'fulfilled'));
  const ready = missing.filter((m) => (m.kind === 'event' ? events!.status === 'fulfilled' : madeBuckets.has(m.bucket)));
  return { ready, unavailable };
}

/**
 * The server refused the subject to this user (told apart by name: nothing of the clients is loaded for it). A request
 * (a stream info, a purge) is refused with a RequestError whose cause is the violation.
 */
export function isPermissionViolation(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (e.name === 'PermissionViolationError') return true;
  return false;
}
