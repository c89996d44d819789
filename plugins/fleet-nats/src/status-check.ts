// What `fleet status` reads of a host's status document, checked: a value in the bucket is anyone's who may write
// there (a bug, an old version, a hand-written put). A bad entry is left out (and named) rather than the whole host.
import type { LastRunTarget, PendingStatus, ServiceStatus, StatusReport, TargetStatus } from '@certsmith/core';

/** The status with its unsound entries left out, and the paths of what was left out (`targets[1].pending[0]`…). */
export interface CheckedStatus {
  status: StatusReport;
  leftOut: string[];
}

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => !!v && typeof v === 'object' && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isDate = (v: unknown): v is string => isString(v) && Number.isFinite(Date.parse(v));
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** The status a document holds, with what the view reads checked; null when it is not a status at all. */
export function checkedStatus(value: unknown): CheckedStatus | null {
  if (!isObject(value) || !isString(value.hostname) || !isString(value.now) || !Array.isArray(value.targets)) return null;
  const leftOut: string[] = [];
  const targets = keptOf(value.targets, 'targets', leftOut, (t, at) => checkedTarget(t, at, leftOut));
  return { status: { ...(value as unknown as StatusReport), targets }, leftOut };
}

/** The items `check` keeps (possibly amended), with the path of each one it drops added to `leftOut`. */
function keptOf<T>(items: unknown[], path: string, leftOut: string[], check: (item: unknown, at: string) => T | null): T[] {
  const kept: T[] = [];
  items.forEach((item, i) => {
    const sound = check(item, `${path}[${i}]`);
    if (sound === null) leftOut.push(`${path}[${i}]`);
    else kept.push(sound);
  });
  return kept;
}

function checkedTarget(t: unknown, at: string, leftOut: string[]): TargetStatus | null {
  if (!isObject(t) || !isString(t.target) || !Array.isArray(t.services) || !Array.isArray(t.pending)) return null;
  const services = keptOf(t.services, `${at}.services`, leftOut, (s) => (isSoundService(s) ? s : null));
  const pending = keptOf(t.pending, `${at}.pending`, leftOut, (p) => (isSoundPending(p) ? p : null));
  let lastRun = (t.lastRun ?? null) as TargetStatus['lastRun'];
  if (lastRun !== null) {
    if (!isObject(lastRun) || !Array.isArray(lastRun.failures)) {
      leftOut.push(`${at}.lastRun`);
      lastRun = null;
    } else {
      const failures = keptOf(lastRun.failures, `${at}.lastRun.failures`, leftOut, (f) => (isSoundFailure(f) ? f : null));
      lastRun = { ...lastRun, failures };
    }
  }
  return { ...(t as unknown as TargetStatus), services, pending, lastRun };
}

function isSoundService(s: unknown): s is ServiceStatus {
  if (!isObject(s) || !isString(s.service) || !isStrings(s.missingNames)) return false;
  const { renewal, certificate } = s;
  if (!isObject(renewal) || typeof renewal.due !== 'boolean' || !isString(renewal.reason)) return false;
  if (renewal.dueAt !== undefined && renewal.dueAt !== null && !isDate(renewal.dueAt)) return false;
  return certificate === null || (isObject(certificate) && isDate(certificate.notAfter) && typeof certificate.selfSigned === 'boolean');
}

function isSoundPending(p: unknown): p is PendingStatus {
  return (
    isObject(p) &&
    isString(p.issuer) &&
    isString(p.order) &&
    isDate(p.createdAt) &&
    typeof p.waitedSeconds === 'number' &&
    Number.isFinite(p.waitedSeconds) &&
    (p.heldBy === undefined || isString(p.heldBy))
  );
}

function isSoundFailure(f: unknown): f is LastRunTarget['failures'][number] {
  return isObject(f) && isString(f.code) && isString(f.message);
}
