import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertsmithConfig } from './config/config.js';
import { CertsmithError } from './errors.js';
import { writePrivateFileAtomic } from './atomic-file.js';
import type { RunReport, TargetReport, TargetResult } from './report.js';
import { allTargets } from './targets.js';

/** The file under paths.stateDir. */
export const LAST_RUN_FILE = 'last-run.json';

/** A name left out of a certificate, and why (local DCV, CAA, an abandoned order, the config). */
export interface DroppedName {
  name: string;
  code: string;
  reason: string;
}

/** What the last run that checked a target found and did, as `certsmith status` shows it without the event log. */
export interface LastRunTarget {
  /** When that run finished (ISO 8601): targets checked with `--target` have their own runs. */
  at: string;
  result: TargetResult;
  actions: string[];
  /** Names the last run that ordered for this target left out; carried over by runs that did not order. */
  dropped: DroppedName[];
  /** Warnings and errors of that run, code and message. */
  failures: { code: string; message: string; severity: 'error' | 'warning'; service?: string; name?: string }[];
  /**
   * The last certificate issued for the target (carried over until the next one): which issuer (plugin id) issued it,
   * its serial and issuer name (as the certificate says it), under which profile.
   */
  issued?: { at: string; issuer: string; serial: string; issuerName: string; fingerprint: string; profile?: string };
}

export interface LastRun {
  version: 1;
  /** The latest run: when and how it ended. */
  run: { startedAt: string; finishedAt: string; exitCode: number; targets: number };
  targets: Record<string, LastRunTarget>;
}

/**
 * Records what a (non-dry) run found, for `certsmith status`: the run, and per target its result, its dropped names
 * and the last issued certificate's issuer and profile. Targets the run did not check keep their earlier record;
 * targets no longer in the config are forgotten. Written atomically (0600); an unreadable earlier file is replaced.
 * Throws a STATE_UNWRITABLE CertsmithError naming the file when it cannot be written.
 */
export async function recordLastRun(config: CertsmithConfig, report: RunReport): Promise<void> {
  if (report.dryRun) return;
  const file = join(config.paths.stateDir, LAST_RUN_FILE);
  const previous = await readLastRun(config.paths.stateDir).catch(() => null);
  const configured = new Set(allTargets(config).map((t) => t.id));
  const targets: Record<string, LastRunTarget> = {};
  for (const [id, entry] of Object.entries(previous?.targets ?? {})) if (configured.has(id)) targets[id] = entry;
  for (const target of report.targets)
    if (configured.has(target.target)) targets[target.target] = targetRecord(target, report.finishedAt, targets[target.target]);
  const record: LastRun = {
    version: 1,
    run: { startedAt: report.startedAt, finishedAt: report.finishedAt, exitCode: report.exitCode, targets: report.targets.length },
    targets,
  };
  await writePrivateFileAtomic(file, `${JSON.stringify(record)}\n`).catch((error: unknown) => {
    throw new CertsmithError('STATE_UNWRITABLE', `${file}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  });
}

function targetRecord(target: TargetReport, at: string, before: LastRunTarget | undefined): LastRunTarget {
  const failures = [...target.failures, ...target.services.flatMap((s) => s.failures)].map((f) => ({
    code: f.code,
    message: f.message,
    severity: f.severity,
    ...(f.service ? { service: f.service } : {}),
    ...(f.name ? { name: f.name } : {}),
  }));
  // A run that validated names (it ordered, or looked whether it could) says anew which were dropped.
  const ordered = target.validations.length > 0 || target.issued !== undefined;
  const dropped: DroppedName[] = [];
  const seen = new Set<string>();
  for (const v of target.validations) {
    if (v.ok || seen.has(v.name)) continue;
    seen.add(v.name);
    dropped.push({ name: v.name, code: v.code ?? (v.method === 'config' ? 'EXCLUDED' : 'DCV_FAILED'), reason: v.reason ?? 'failed' });
  }
  // A warning on a name that passed (an unreachable AAAA address the CA falls back from) keeps the name in the order.
  const passed = new Set(target.validations.filter((v) => v.ok).map((v) => v.name));
  for (const f of failures) {
    if (!f.name || seen.has(f.name) || passed.has(f.name) || f.severity !== 'warning') continue;
    seen.add(f.name);
    dropped.push({ name: f.name, code: f.code, reason: f.message });
  }
  const issued =
    target.issued?.status === 'issued'
      ? {
          at,
          issuer: target.issued.issuer,
          serial: target.issued.summary.serial,
          issuerName: target.issued.summary.issuer,
          fingerprint: target.issued.summary.fingerprint,
          ...(target.issued.profile ? { profile: target.issued.profile } : {}),
        }
      : before?.issued;
  return {
    at,
    result: target.result,
    actions: target.actions,
    dropped: ordered ? dropped : (before?.dropped ?? []),
    failures,
    ...(issued ? { issued } : {}),
  };
}

/**
 * The record of the last runs, or null when no run has written one. A file edited into nonsense is a
 * STATE_INVALID error naming the file and what is wrong.
 */
export async function readLastRun(stateDir: string): Promise<LastRun | null> {
  const file = join(stateDir, LAST_RUN_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CertsmithError('STATE_INVALID', `${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CertsmithError('STATE_INVALID', `${file}: not JSON (${(error as Error).message.replace(/\s+/g, ' ')})`);
  }
  const problem = lastRunProblem(data);
  if (problem) throw new CertsmithError('STATE_INVALID', `${file}: ${problem}`);
  return data as LastRun;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDate = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** What is wrong with a parsed last-run file, in words, or null when its shape is right. */
function lastRunProblem(data: unknown): string | null {
  if (!isObject(data)) return 'not a JSON object';
  if (data.version !== 1) return `"version" is ${JSON.stringify(data.version)}, not 1`;
  const { run, targets } = data;
  if (!isObject(run) || !isDate(run.startedAt) || !isDate(run.finishedAt) || typeof run.exitCode !== 'number')
    return '"run" is not an object with startedAt, finishedAt and exitCode';
  if (!isObject(targets)) return '"targets" is not an object';
  for (const [id, t] of Object.entries(targets)) {
    const field = (name: string) => `"targets.${id}${name ? `.${name}` : ''}"`;
    if (!isObject(t)) return `${field('')} is not an object`;
    if (!isDate(t.at)) return `${field('at')} is not a date (${JSON.stringify(t.at)})`;
    if (typeof t.result !== 'string') return `${field('result')} is not a string`;
    if (!Array.isArray(t.actions) || !t.actions.every((a) => typeof a === 'string')) return `${field('actions')} is not a list of strings`;
    if (!Array.isArray(t.dropped) || !t.dropped.every((d) => isObject(d) && typeof d.name === 'string' && typeof d.reason === 'string'))
      return `${field('dropped')} is not a list of names with reasons`;
    if (!Array.isArray(t.failures) || !t.failures.every((f) => isObject(f) && typeof f.code === 'string' && typeof f.message === 'string'))
      return `${field('failures')} is not a list of codes and messages`;
    if (t.issued !== undefined && (!isObject(t.issued) || typeof t.issued.issuer !== 'string' || typeof t.issued.serial !== 'string'))
      return `${field('issued')} has no issuer or serial`;
  }
  return null;
}
