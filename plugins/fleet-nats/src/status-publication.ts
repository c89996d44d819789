import type { Ask, FleetConnection } from './fleet-connection.js';
import type { FleetSettings } from './options.js';
import type { Outbound } from './outbound.js';
import { sendOutbound } from './outbound-sender.js';
import type { Spool } from './spool.js';
import type { OnceWarnings } from './warnings.js';

/** Only the newest status per key: an older one sent beside it could land last. */
export function latestStatuses(messages: Outbound[]): Outbound[] {
  const last = new Map<string, number>();
  messages.forEach((m, i) => m.kind === 'status' && last.set(`${m.bucket}/${m.key}`, i));
  return messages.filter((m, i) => m.kind !== 'status' || last.get(`${m.bucket}/${m.key}`) === i);
}

/**
 * Sends what the spool kept and this run's messages; what is not acknowledged (NATS unusable, the stream refused)
 * goes back to the spool. Returns how many were sent, and what was not.
 */
export async function sendWithSpool(
  connection: FleetConnection,
  spool: Spool,
  settings: Pick<FleetSettings, 'stream'>,
  messages: Outbound[],
  warnings: OnceWarnings,
  signal: AbortSignal,
): Promise<{ sent: number; unsent: Outbound[] }> {
  const batch = latestStatuses([...(await spool.read()), ...messages]);
  let left = batch;
  let dropped = 0;
  await connection.use(
    undefined,
    async (ask) => {
      const fitting = await withinMaxPayload(ask, batch, warnings);
      dropped = batch.length - fitting.length;
      const { refused, unavailable } = await sendOutbound(ask, settings.stream, fitting);
      if (unavailable) warnings.add(`${unavailable.message}: the events wait in ${spool.file}`);
      left = refused;
    },
    signal,
  );
  await spool.replace(left);
  return { sent: batch.length - left.length - dropped, unsent: left };
}

/**
 * The messages the server can take: one over its max_payload (a status of thousands of targets) would be refused on
 * every run and spooled again, so that the host looked silent to the fleet. It is said in one warning and not sent.
 */
async function withinMaxPayload(ask: Ask, batch: Outbound[], warnings: OnceWarnings): Promise<Outbound[]> {
  const max = await ask(async ({ nc }) => nc.info?.max_payload);
  if (!max) return batch;
  return batch.filter((m) => {
    const size = Buffer.byteLength(m.kind === 'event' ? m.data : m.value);
    if (size <= max) return true;
    const what = m.kind === 'event' ? `the event ${m.subject}` : `the status under ${m.bucket}/${m.key}`;
    warnings.add(
      `FLEET_MESSAGE_TOO_LARGE: ${what} is ${size} bytes, over the NATS server's max_payload of ${max}: not sent (raise max_payload in its configuration)`,
    );
    return false;
  });
}
