import type { StorageType } from '@nats-io/jetstream';
import type { Ask } from './fleet-connection.js';
import { isApiError, isNoStream, isStreamNotFound } from './js-errors.js';
import { EVENT_SUBJECTS, kvStream, kvSubject } from './names.js';
import { DUPLICATE_WINDOW_NS, type Outbound } from './outbound.js';

/** The stream could not be found or made (no permission, no JetStream): its events wait in the spool. */
export class StreamUnavailable extends Error {
  constructor(stream: string, cause: unknown) {
    super(`the event stream ${stream} cannot be used (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'StreamUnavailable';
  }
}

/** Makes the event stream when it is missing, with the duplicate window that makes a re-send harmless. */
export async function ensureStream(ask: Ask, stream: string): Promise<void> {
  try {
    await ask(async ({ manager }) => {
      const jsm = await manager();
      return jsm.streams.info(stream).catch(async (error: unknown) => {
        if (!isStreamNotFound(error)) throw error;
        return jsm.streams.add({ name: stream, subjects: [EVENT_SUBJECTS], duplicate_window: DUPLICATE_WINDOW_NS, storage: 'file' as StorageType });
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

/**
 * Sends the messages side by side, each straight to its subject with the stream that must store it expected (an event
 * to the event stream, a status to its key's subject in the bucket's stream, as a KV put does): no round trip looks a
 * stream up first. Only when no stream took a message (the stream or the bucket is missing) is it made, and the
 * message sent again.
 */
export async function sendOutbound(ask: Ask, stream: string, messages: Outbound[]): Promise<SendOutcome> {
  const outcomes = await publishAll(ask, stream, messages);
  const missing = messages.filter((_, i) => isNoStream(outcomes[i]));
  let unavailable: StreamUnavailable | undefined;
  if (missing.length > 0) {
    const made = await makeStreams(ask, stream, missing);
    unavailable = made.unavailable;
    const again = made.ready.length > 0 ? await publishAll(ask, stream, made.ready) : [];
    made.ready.forEach((m, i) => (outcomes[messages.indexOf(m)] = again[i]));
  }
  return { refused: messages.filter((_, i) => outcomes[i] !== undefined), unavailable };
}

/** Each message's failure, or undefined when it was acknowledged. */
async function publishAll(ask: Ask, stream: string, messages: Outbound[]): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(
    messages.map((m) =>
      m.kind === 'event'
        ? ask(({ js }) => js.publish(m.subject, m.data, { msgID: m.msgID, expect: { streamName: stream } }))
        : ask(({ js }) => js.publish(kvSubject(m.bucket, m.key), m.value, { expect: { streamName: kvStream(m.bucket) } })),
    ),
  );
  return outcomes.map((o) => (o.status === 'rejected' ? ((o.reason as unknown) ?? new Error('refused')) : undefined));
}

/** Makes the event stream and the buckets the messages need; returns the messages whose stream is there now. */
async function makeStreams(ask: Ask, stream: string, missing: Outbound[]): Promise<{ ready: Outbound[]; unavailable?: StreamUnavailable }> {
  const buckets = [...new Set(missing.flatMap((m) => (m.kind === 'status' ? [m.bucket] : [])))];
  let unavailable: StreamUnavailable | undefined;
  const [events, ...made] = await Promise.allSettled([
    missing.some((m) => m.kind === 'event') ? ensureStream(ask, stream) : Promise.resolve(),
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
