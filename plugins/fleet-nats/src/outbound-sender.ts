import type { StorageType } from '@nats-io/jetstream';
import type { Ask } from './fleet-connection.js';
import { isApiError, isStreamNotFound } from './js-errors.js';
import { EVENT_SUBJECTS } from './names.js';
import type { Outbound } from './outbound.js';

/** How long the stream remembers a message id: a spool sent again within two days is stored once. */
export const DUPLICATE_WINDOW_NS = 48 * 3_600 * 1_000_000_000;

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
    await ask(({ jsm }) =>
      jsm.streams.info(stream).catch(async (error: unknown) => {
        if (!isStreamNotFound(error)) throw error;
        return jsm.streams.add({ name: stream, subjects: [EVENT_SUBJECTS], duplicate_window: DUPLICATE_WINDOW_NS, storage: 'file' as StorageType });
      }),
    );
  } catch (error) {
    // The server answered and said no (a permission, a limit); no answer at all is NATS being unreachable.
    if (isApiError(error)) throw new StreamUnavailable(stream, error);
    throw error;
  }
}

/** Sends the messages side by side; returns those that were not acknowledged, in their order. */
export async function sendOutbound(ask: Ask, messages: Outbound[]): Promise<Outbound[]> {
  const outcomes = await Promise.allSettled(
    messages.map((m) =>
      m.kind === 'event'
        ? ask(({ js }) => js.publish(m.subject, m.data, { msgID: m.msgID }))
        : ask(async ({ bucket }) => (await bucket(m.bucket)).put(m.key, m.value)),
    ),
  );
  return messages.filter((_, i) => outcomes[i]!.status === 'rejected');
}
