import type { FleetConnection } from './fleet-connection.js';
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
  await connection.use(
    undefined,
    async (ask) => {
      const { refused, unavailable } = await sendOutbound(ask, settings.stream, batch);
      if (unavailable) warnings.add(`${unavailable.message}: the events wait in ${spool.file}`);
      left = refused;
    },
    signal,
  );
  await spool.replace(left);
  return { sent: batch.length - left.length, unsent: left };
}
