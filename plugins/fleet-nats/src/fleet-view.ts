import { CertsmithError, type FleetHostReport, type FleetView } from '@certsmith/core';
import type { KvEntry } from '@nats-io/kv';
import type { Ask } from './fleet-connection.js';
import { openClients } from './nats-clients.js';
import type { FleetSettings } from './options.js';
import { SharedLedger } from './shared-ledger.js';
import { checkedStatus } from './status-check.js';
import { headOf, headProblem, hostKeyOf, isPartKey, joinParts, partKeysOf, type StatusHead } from './status-parts.js';
import { WaitBudget } from './wait-budget.js';
import { OnceWarnings } from './warnings.js';

/** `fleet status` is asked for by a person: it may wait longer than a run does, up to its signal. */
const VIEW_BUDGET_MS = 60_000;

/** Every host's last status and the fleet's rate limits; a CertsmithError naming the servers when NATS cannot be used. */
export async function readFleetView(settings: FleetSettings, now: () => Date, signal: AbortSignal): Promise<FleetView> {
  const budget = new WaitBudget(VIEW_BUDGET_MS);
  const unreachable = (error: unknown) =>
    new CertsmithError(
      'FLEET_UNREACHABLE',
      `NATS at ${settings.servers.join(', ')} cannot be used: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  const connecting = openClients(settings, settings.maxWaitMs);
  const clients = await budget
    .bound(() => connecting, signal)
    .catch((error: unknown) => {
      void connecting.then((c) => c.nc.close()).catch(() => undefined);
      throw unreachable(error);
    });
  const warnings = new OnceWarnings();
  const ask: Ask = (call) => budget.bound(() => call(clients), signal);
  try {
    const hosts = await readHosts(ask, settings.statusBucket, warnings);
    const rateLimits = await new SharedLedger(settings.ledgerBucket, warnings, now).read(ask);
    return { hosts, rateLimits, warnings: warnings.take() };
  } catch (error) {
    throw unreachable(error);
  } finally {
    await clients.nc.close().catch(() => undefined);
  }
}

/** One key's entry in the status bucket, or null when it is absent. */
type ReadKey = (key: string) => Promise<KvEntry | null>;

export async function readHosts(ask: Ask, bucketName: string, warnings: OnceWarnings): Promise<FleetHostReport[]> {
  const keys = await ask(async ({ bucket }) => {
    const found: string[] = [];
    for await (const key of await (await bucket(bucketName)).keys()) found.push(key);
    return found;
  });
  const read: ReadKey = (key) => ask(async ({ bucket }) => (await bucket(bucketName)).get(key));
  // Parts are read through the head that names them, never as hosts.
  const entries = await Promise.all(keys.filter((key) => !isPartKey(key)).map(read));
  warnStrayParts(keys, entries, bucketName, warnings);
  const reports = await Promise.all(entries.map((entry) => (entry ? hostReportOf(entry, { read, bucketName, warnings }, true) : [])));
  return reports.flat();
}

/**
 * Parts under a host key that holds nothing are leftovers (a write that never reached its head, or a host whose key
 * was deleted): said once per host key, with the purge that removes them (no host looks under a key it does not
 * write), and ignored. Parts under a key that holds a value are another generation, being written or about to be
 * purged: not a fault.
 */
function warnStrayParts(keys: string[], entries: (KvEntry | null)[], bucketName: string, warnings: OnceWarnings): void {
  const held = new Set(entries.flatMap((entry) => (entry?.operation === 'PUT' ? [entry.key] : [])));
  const stray = new Map<string, string[]>();
  for (const key of keys) if (isPartKey(key) && !held.has(hostKeyOf(key))) stray.set(hostKeyOf(key), [...(stray.get(hostKeyOf(key)) ?? []), key]);
  for (const [hostKey, parts] of stray) {
    const named = parts.length === 1 ? `the part ${parts[0]}` : `${parts.length} parts (${parts.sort()[0]} ...)`;
    warnings.add(
      `${named} in bucket ${bucketName} under ${hostKey}, which holds no status, ignored: if no host writes ${hostKey} any more, remove them with a purge of the stream KV_${bucketName} filtered to the subject $KV.${bucketName}.${hostKey}.>`,
    );
  }
}

interface HostReading {
  read: ReadKey;
  bucketName: string;
  warnings: OnceWarnings;
}

async function hostReportOf(entry: KvEntry, reading: HostReading, firstLook: boolean): Promise<FleetHostReport[]> {
  if (entry.operation !== 'PUT') return [];
  const value = parsed(entry.string());
  const head = headOf(value);
  if (head) return partedReportOf(entry, head, reading, firstLook);
  return statusDocumentOf(value, entry, reading);
}

/**
 * The status a head names, joined from its parts and checked against the head's size and SHA-256. A part missing may
 * mean the host wrote a new generation meanwhile (and purged this one): the head is read once again.
 */
async function partedReportOf(entry: KvEntry, head: StatusHead, reading: HostReading, firstLook: boolean): Promise<FleetHostReport[]> {
  const { read, bucketName, warnings } = reading;
  const problem = headProblem(head);
  if (problem) {
    warnings.add(`the status head under ${entry.key} in bucket ${bucketName} is not sound (${problem}): left out`);
    return [];
  }
  const keys = partKeysOf(entry.key, head);
  const parts = await Promise.all(keys.map(read));
  const missing = keys.find((_, i) => parts[i]?.operation !== 'PUT');
  if (missing) {
    if (firstLook) {
      const again = await read(entry.key);
      if (!again) return [];
      if (again.revision !== entry.revision) return hostReportOf(again, reading, false);
    }
    warnings.add(`the status under ${entry.key} in bucket ${bucketName} names the part ${missing}, which is missing: left out`);
    return [];
  }
  const joined = joinParts(
    head,
    parts.map((part) => part!.value),
  );
  if ('problem' in joined) {
    warnings.add(`the status under ${entry.key} in bucket ${bucketName} is not whole (${joined.problem}): left out`);
    return [];
  }
  return statusDocumentOf(parsed(joined.text), entry, reading);
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** How many of the paths left out a warning names before it only counts the rest. */
const NAMED_LEFT_OUT = 5;

/**
 * The host's report from its (joined) document, with the time the server stored it (the head, for a status in parts:
 * written last). What is not sound is left out with one warning naming the key: the entries when the rest stands, the
 * whole host when the document itself is not a status.
 */
function statusDocumentOf(parsedValue: unknown, entry: KvEntry, { bucketName, warnings }: HostReading): FleetHostReport[] {
  const value = parsedValue as Partial<Record<keyof FleetHostReport, unknown>> | null;
  const checked = checkedStatus(value?.status);
  const reportedAt = value?.reportedAt;
  if (typeof value?.host !== 'string' || typeof reportedAt !== 'string' || !checked) {
    warnings.add(`the value under ${entry.key} in bucket ${bucketName} is not a status document: left out`);
    return [];
  }
  const { status, leftOut } = checked;
  if (leftOut.length) {
    const named = leftOut.slice(0, NAMED_LEFT_OUT).join(', ');
    const more = leftOut.length > NAMED_LEFT_OUT ? ` and ${leftOut.length - NAMED_LEFT_OUT} more` : '';
    warnings.add(`the status under ${entry.key} in bucket ${bucketName} has entries that are not sound: ${named}${more} left out`);
  }
  return [{ host: value.host, reportedAt, receivedAt: entry.created.toISOString(), status }];
}
