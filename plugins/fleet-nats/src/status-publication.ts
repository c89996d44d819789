import type { FleetConnection } from './fleet-connection.js';
import type { FleetSettings } from './options.js';
import type { Outbound } from './outbound.js';
import { sendOutbound } from './outbound-sender.js';
import type { Spool } from './spool.js';
import { HEADER_ROOM, MAX_PARTS, partCount } from './status-parts.js';
import type { OnceWarnings } from './warnings.js';

/** Only the newest status per key: an older one sent beside it could land last. */
export function latestStatuses(messages: Outbound[]): Outbound[] {
  const last = new Map<string, number>();
  messages.forEach((m, i) => m.kind === 'status' && last.set(`${m.bucket}/${m.key}`, i));
  return messages.filter((m, i) => m.kind !== 'status' || last.get(`${m.bucket}/${m.key}`) === i);
}

/** What a run has to send, and what the sending needs to know of the host's record. */
export interface Outgoing {
  messages: Outbound[];
  /** Parts of an earlier status may be under the host's key (see SendOptions). */
  partsMayRemain: boolean;
  /** Awaited before a status's first part is written: the record must say parts may remain (see SendOptions). */
  partsStarting?: () => Promise<void>;
}

export interface SpoolSendOutcome {
  sent: number;
  unsent: Outbound[];
  /** What the server could never take (too large): neither sent nor spooled. */
  dropped: Outbound[];
  /** A status was written in parts, or old parts could not be removed: the next report looks for parts to remove. */
  partsRemain: boolean;
}

/**
 * Sends what the spool kept and this run's messages; what is not acknowledged (NATS unusable, the stream refused)
 * goes back to the spool. A status over the server's max_payload is split into parts here, at sending: the spool keeps
 * it whole, since the limit is known only once connected. Returns how many were sent, and what was not.
 */
export async function sendWithSpool(
  connection: FleetConnection,
  spool: Spool,
  settings: Pick<FleetSettings, 'stream' | 'eventRetentionDays'>,
  outgoing: Outgoing,
  warnings: OnceWarnings,
  signal: AbortSignal,
): Promise<SpoolSendOutcome> {
  const spooled = await spool.read();
  const batch = latestStatuses([...spooled, ...outgoing.messages]);
  // A status in the spool is one whose write failed, perhaps after some of its parts were written.
  const partsMayRemain = outgoing.partsMayRemain || spooled.some((m) => m.kind === 'status');
  let left = batch;
  let dropped: Outbound[] = [];
  let partsRemain = false;
  await connection.use(
    undefined,
    async (ask) => {
      const maxPayload = await ask(async ({ nc }) => nc.info?.max_payload);
      const fitting = sendable(maxPayload, batch, warnings);
      dropped = batch.filter((m) => !fitting.includes(m));
      const { refused, unavailable } = await sendOutbound(ask, settings.stream, fitting, {
        maxPayload,
        partsMayRemain,
        eventRetentionDays: settings.eventRetentionDays,
        written: (_key, inParts) => (partsRemain ||= inParts),
        partsStarting: outgoing.partsStarting,
        staleParts: (key, error) => {
          partsRemain = true;
          warnings.add(
            `the old parts of the status under ${key} cannot be removed (${error instanceof Error ? error.message : String(error)}): the next report tries again`,
          );
        },
      });
      if (unavailable) warnings.add(`${unavailable.message}: the events wait in ${spool.file}`);
      left = refused;
    },
    signal,
  );
  await spool.replace(left);
  return { sent: batch.length - left.length - dropped.length, unsent: left, dropped, partsRemain };
}

/**
 * The messages the server can take: an event over its max_payload (with room for the headers) would be refused on
 * every run and spooled again; it is said in one warning and not sent. A status goes, in parts if need be, unless it
 * needs more parts than a reader takes (a tiny max_payload): written, it would be refused by every reader.
 */
function sendable(max: number | undefined, batch: Outbound[], warnings: OnceWarnings): Outbound[] {
  if (!max) return batch;
  return batch.filter((m) => {
    if (m.kind === 'status') {
      const size = Buffer.byteLength(m.value);
      const parts = partCount(size, max);
      if (parts <= MAX_PARTS) return true;
      warnings.add(
        `FLEET_MESSAGE_TOO_LARGE: the status under ${m.key} in bucket ${m.bucket} is ${size} bytes, which at the NATS server's max_payload of ${max} (less ${HEADER_ROOM} for headers) takes ${parts} parts, over the ${MAX_PARTS} a reader takes: not sent (raise max_payload in its configuration)`,
      );
      return false;
    }
    const size = Buffer.byteLength(m.data);
    if (size + HEADER_ROOM <= max) return true;
    warnings.add(
      `FLEET_MESSAGE_TOO_LARGE: the event ${m.subject} is ${size} bytes, over the NATS server's max_payload of ${max} (less ${HEADER_ROOM} for headers): not sent (raise max_payload in its configuration)`,
    );
    return false;
  });
}
