import type { FleetHostReport, StatusReport } from '@certsmith/core';
import type { FleetConnection } from './fleet-connection.js';
import { statusKey } from './names.js';
import type { FleetSettings } from './options.js';
import type { Outbound } from './outbound.js';
import { ensureStream, sendOutbound, StreamUnavailable } from './outbound-sender.js';
import type { Spool } from './spool.js';
import type { OnceWarnings } from './warnings.js';

export function statusMessage(settings: Pick<FleetSettings, 'statusBucket' | 'host' | 'hostname'>, status: StatusReport, reportedAt: Date): Outbound {
  const report: FleetHostReport = { host: settings.hostname, reportedAt: reportedAt.toISOString(), status };
  return { kind: 'status', bucket: settings.statusBucket, key: statusKey(settings.host), value: JSON.stringify(report) };
}

/** Only the newest status per key: an older one sent beside it could land last. */
export function latestStatuses(messages: Outbound[]): Outbound[] {
  const last = new Map<string, number>();
  messages.forEach((m, i) => m.kind === 'status' && last.set(`${m.bucket}/${m.key}`, i));
  return messages.filter((m, i) => m.kind !== 'status' || last.get(`${m.bucket}/${m.key}`) === i);
}

/**
 * Sends what the spool kept and this run's messages; what is not acknowledged (NATS unusable, the stream refused)
 * goes back to the spool. Returns how many were sent.
 */
export async function sendWithSpool(
  connection: FleetConnection,
  spool: Spool,
  settings: Pick<FleetSettings, 'stream'>,
  messages: Outbound[],
  warnings: OnceWarnings,
  signal: AbortSignal,
): Promise<{ sent: number; spooled: number }> {
  const batch = latestStatuses([...(await spool.read()), ...messages]);
  let left = batch;
  await connection.use(
    undefined,
    async (ask) => {
      let sendable = batch;
      try {
        await ensureStream(ask, settings.stream);
      } catch (error) {
        if (!(error instanceof StreamUnavailable)) throw error;
        warnings.add(`${error.message}: the events wait in ${spool.file}`);
        sendable = batch.filter((m) => m.kind === 'status');
      }
      const refused = await sendOutbound(ask, sendable);
      left = batch.filter((m) => !sendable.includes(m) || refused.includes(m));
    },
    signal,
  );
  await spool.replace(left);
  return { sent: batch.length - left.length, spooled: left.length };
}
