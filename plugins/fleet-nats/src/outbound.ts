import type { FleetHostReport, StatusReport } from '@certsmith/core';
import { statusKey } from './names.js';
import type { FleetSettings } from './options.js';

/** How long the event stream remembers a message id: a spool sent again within two days is stored once. */
export const DUPLICATE_WINDOW_NS = 48 * 3_600 * 1_000_000_000;

/** What a host sends to the fleet: an event for the stream (its id makes a re-send harmless), or its status for KV. */
export type Outbound = { kind: 'event'; subject: string; msgID: string; data: string } | { kind: 'status'; bucket: string; key: string; value: string };

/** A line of the spool read back, or null when it is not one this plugin wrote. */
export function outboundOf(line: string): Outbound | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const text = (field: string) => typeof v[field] === 'string';
  if (v.kind === 'event' && text('subject') && text('msgID') && text('data'))
    return { kind: 'event', subject: v.subject as string, msgID: v.msgID as string, data: v.data as string };
  if (v.kind === 'status' && text('bucket') && text('key') && text('value'))
    return { kind: 'status', bucket: v.bucket as string, key: v.key as string, value: v.value as string };
  return null;
}

/** The host's status as the fleet keeps it, for the status bucket under the host's key. */
export function statusMessage(settings: Pick<FleetSettings, 'statusBucket' | 'host' | 'hostname'>, status: StatusReport, reportedAt: Date): Outbound {
  const report: FleetHostReport = { host: settings.hostname, reportedAt: reportedAt.toISOString(), status };
  return { kind: 'status', bucket: settings.statusBucket, key: statusKey(settings.host), value: JSON.stringify(report) };
}
