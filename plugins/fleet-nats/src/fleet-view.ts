import { CertsmithError, type FleetHostReport, type FleetView } from '@certsmith/core';
import type { KvEntry } from '@nats-io/kv';
import type { Ask } from './fleet-connection.js';
import { openClients } from './nats-clients.js';
import type { FleetSettings } from './options.js';
import { SharedLedger } from './shared-ledger.js';
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

async function readHosts(ask: Ask, bucketName: string, warnings: OnceWarnings): Promise<FleetHostReport[]> {
  const keys = await ask(async ({ bucket }) => {
    const found: string[] = [];
    for await (const key of await (await bucket(bucketName)).keys()) found.push(key);
    return found;
  });
  const entries = await Promise.all(keys.map((key) => ask(async ({ bucket }) => (await bucket(bucketName)).get(key))));
  return entries.flatMap((entry) => (entry ? hostReportOf(entry, bucketName, warnings) : []));
}

function hostReportOf(entry: KvEntry, bucketName: string, warnings: OnceWarnings): FleetHostReport[] {
  if (entry.operation !== 'PUT') return [];
  let value: Partial<FleetHostReport> | null = null;
  try {
    value = JSON.parse(entry.string()) as Partial<FleetHostReport> | null;
  } catch {
    // said below
  }
  const status = value?.status;
  if (typeof value?.host === 'string' && typeof value.reportedAt === 'string' && isStatusReport(status))
    return [{ host: value.host, reportedAt: value.reportedAt, status }];
  warnings.add(`the value under ${entry.key} in bucket ${bucketName} is not a status document: left out`);
  return [];
}

function isStatusReport(value: unknown): value is FleetHostReport['status'] {
  const v = value as Partial<FleetHostReport['status']> | null | undefined;
  return !!v && typeof v === 'object' && typeof v.hostname === 'string' && typeof v.now === 'string' && Array.isArray(v.targets);
}
