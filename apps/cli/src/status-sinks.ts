import { setMaxListeners } from 'node:events';
import { describeError, type Bus, type RunReport } from '@certsmith/core';
import type { Composition } from './compose.js';
import { collectStatus } from './status.js';

/** A status sink's publish is bounded: a slow metrics disk or fleet cannot hold the run's end. */
const PUBLISH_TIMEOUT_MS = 5_000;

/**
 * After a run: the host's status document (what `status --json` prints) to every status sink, and the fleet link's
 * warnings, each said once as a `failed` warning and a line. Read only when a sink wants it. Never throws.
 */
export async function publishStatus(composition: Composition, result: RunReport, say: (line: string) => void): Promise<void> {
  const { contributions, bus } = composition;
  const warn = warner(bus, say);
  const fleet = contributions.fleet[0];
  for (const warning of fleet?.takeWarnings() ?? []) warn(fleet!.id, 'FLEET_DEGRADED', warning, 'go on alone');
  if (contributions.statusSinks.length === 0) return;
  let status;
  try {
    status = await collectStatus(composition, []);
  } catch (error) {
    warn('status', 'STATUS_UNREADABLE', describeError(error).message, 'no status published this run');
    return;
  }
  for (const sink of contributions.statusSinks) {
    // A sink may send many things at once (a fleet's spooled events), each listening on the one bound.
    const bound = AbortSignal.timeout(PUBLISH_TIMEOUT_MS);
    setMaxListeners(0, bound);
    const outcome = await sink.publish(status, result, bound).catch((error: unknown) => ({
      detail: 'failed',
      warnings: [describeError(error).message],
    }));
    for (const warning of outcome.warnings ?? []) warn(sink.id, 'STATUS_SINK_WARNING', warning, 'the status reaches it next run');
    say(`Status (${sink.id}): ${outcome.detail}`);
  }
}

/** A warning that starts with its own code (`FLEET_SLOT_WAIT: ...`) keeps it on the bus; others get the caller's. */
const OWN_CODE = /^([A-Z][A-Z0-9_]{2,}): /;

function warner(bus: Bus, say: (line: string) => void) {
  return (who: string, fallbackCode: string, message: string, next: string) => {
    const code = OWN_CODE.exec(message)?.[1] ?? fallbackCode;
    bus.emit('failed', { stage: 'fleet', target: '(run)', code, message: `${who}: ${message}`, next, severity: 'warning' });
    say(`Warning (${who}): ${message}`);
  };
}
