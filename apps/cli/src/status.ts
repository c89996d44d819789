import { join } from 'node:path';
import {
  PendingOrderStore,
  allTargets,
  heldBy,
  readLastRun,
  readSwitches,
  renewalByLifetime,
  reportAuthorizations,
  selectTargets,
  type Installer,
  type RenewalStatus,
  type ServiceStatus,
  type StatusHead,
  type StatusReport,
  type TargetStatus,
  type Issuer,
  type ServiceMaterial,
  type Target,
} from '@certsmith/core';
import { nameCovers, parseCertificate, parsePem, readCertificateFields } from '@certsmith/x509';
import type { Composition } from './compose.js';

const DAY = 86_400_000;
/** Targets read at once: their files are small, and a few reads in flight hide the thread pool's latency. */
const READ_CONCURRENCY = 8;

/**
 * What the files and state say now, without asking anything over the network and without a lock: each service's
 * certificate as its installer reads it (read-only), the renewal rule the core would apply to it by its dates, the
 * pending orders and the last run's record. Throws a CertsmithError naming the file for state edited into nonsense,
 * before anything reaches the sink. Targets reach it in order, each as soon as it is read, so that a run over 10,000
 * targets does not hold them all (fewer objects that live long: less garbage collection under the launcher's small
 * young generation).
 */
export async function streamStatus(
  composition: Pick<Composition, 'config' | 'clock' | 'contributions'>,
  wanted: string[],
  sink: { head(head: StatusHead): void; target(target: TargetStatus): void },
): Promise<void> {
  const { config, clock, contributions } = composition;
  const now = clock.now();
  const targets = selectTargets(allTargets(config), wanted);
  const [lastRun, orders, switches] = await Promise.all([
    readLastRun(config.paths.stateDir),
    new PendingOrderStore(join(config.paths.stateDir, 'pending')).list(),
    readSwitches(config.paths.stateDir),
  ]);
  const patterns = config.inspection.providerIssuerPatterns.map((p) => new RegExp(p, 'i'));
  const issuers = config.issuers.map((id) => contributions.issuers.find((i) => i.id === id)).filter((i): i is Issuer => i !== undefined);
  const thresholds = config.inspection;
  const installers = new Map(contributions.installers.map((i) => [i.service, i] as const));

  const statusOf = async (target: Target): Promise<TargetStatus> => {
    const chain = issuers.filter((i) => !(i.trusted && target.kind === 'hostname' && switches.noHostnameCertificate));
    const providerPatterns = [...patterns, ...chain.flatMap((i) => i.issuerPatterns)];
    const record = lastRun?.targets[target.id] ?? null;
    const services: ServiceStatus[] = [];
    for (const service of target.services) {
      const material = await readMaterial(installers.get(service), service, target);
      const status = serviceStatus(material, target, now, {
        caConfigured: chain.some((i) => i.trusted),
        providerIssued: (issuer) => providerPatterns.some((p) => p.test(issuer)),
        thresholds,
      });
      // The certificate the last issuing run installed (serial and issuer name it; no hash of 10,000 certificates).
      const { issued } = record ?? {};
      if (issued && status.certificate?.serial === issued.serial && status.certificate.issuer === issued.issuerName) status.profile = issued.profile ?? null;
      services.push(status);
    }
    const pending = orders
      .filter((o) => o.target === target.id)
      .map((o) => ({
        issuer: o.issuer,
        order: o.reference,
        names: o.names,
        createdAt: o.createdAt,
        waitedSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(o.createdAt)) / 1000)),
        heldBy: heldBy(o, reportAuthorizations(o, now)),
      }));
    return { target: target.id, names: target.names, services, pending, lastRun: record };
  };

  sink.head({ hostname: config.hostname, config: config.file, now: now.toISOString(), lastRun: lastRun?.run ?? null });
  const done: (TargetStatus | undefined)[] = new Array(targets.length);
  let next = 0;
  let emitted = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      done[index] = await statusOf(targets[index]!);
      for (; emitted < targets.length && done[emitted]; emitted++) {
        sink.target(done[emitted]!);
        done[emitted] = undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, targets.length) }, worker));
}

/** The whole report at once (streamStatus into a list). */
export async function collectStatus(composition: Pick<Composition, 'config' | 'clock' | 'contributions'>, wanted: string[]): Promise<StatusReport> {
  let head: StatusHead | undefined;
  const targets: TargetStatus[] = [];
  await streamStatus(composition, wanted, { head: (h) => (head = h), target: (t) => targets.push(t) });
  return { ...head!, targets };
}

async function readMaterial(installer: Installer | undefined, service: string, target: Target): Promise<ServiceMaterial | string> {
  if (!installer) return `no installer for service "${service}": add the plugin that provides it to "plugins"`;
  try {
    return await installer.read(target);
  } catch (error) {
    return `its files cannot be read (${(error as Error).message})`;
  }
}

/** One service's certificate, its dates and the renewal rule the core applies to them. */
export function serviceStatus(
  material: ServiceMaterial | string,
  target: Pick<Target, 'names'>,
  now: Date,
  policy: {
    caConfigured: boolean;
    providerIssued: (issuer: string) => boolean;
    thresholds: { providerThresholdDays: number; otherThresholdDays: number };
  },
): ServiceStatus {
  const service = typeof material === 'string' ? '' : material.service;
  const empty = (file: string | null, reason: string): ServiceStatus => ({
    service,
    file,
    certificate: null,
    profile: null,
    daysLeft: null,
    renewal: { due: true, rule: 'missing', dueAt: null, reason },
    missingNames: [...target.names],
  });
  if (typeof material === 'string') return empty(null, material);
  const source = material.sources.find((s) => s.role === 'certificate' || s.role === 'combined');
  if (!source) return empty(null, 'the service has no certificate file');
  if ('error' in source) return empty(source.path, source.error === 'missing' ? 'no certificate is installed' : `${source.path}: ${source.detail}`);
  const bytes = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
  let certificate: ReadCertificate;
  try {
    // PEM as installers write it; a binary (DER) file as an administrator may have put there.
    const der = bytes[0] === 0x30 ? bytes : firstCertificate(bytes.toString('latin1'));
    if (!der) throw new Error('no PEM certificate in the file');
    certificate = readCertificate(der);
  } catch (error) {
    return empty(source.path, `${source.path}: not a certificate (${(error as Error).message})`);
  }
  const { shown, notBefore, notAfter, dnsNames } = certificate;
  const exact = new Set(dnsNames);
  return {
    service,
    file: source.path,
    certificate: shown,
    profile: null,
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY),
    renewal: renewalStatus(notBefore, notAfter, shown, now, policy),
    // Most names are in the SAN as they are; only the others are matched against wildcards.
    missingNames: target.names.filter((n) => !exact.has(n) && !dnsNames.some((c) => nameCovers(c, n))),
  };
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** The DER of the first PEM certificate of a file (the one the service presents), without decoding the chain after it. */
function firstCertificate(text: string): Buffer | undefined {
  const start = text.indexOf(BEGIN);
  const end = start < 0 ? -1 : text.indexOf(END, start);
  if (end < 0) return parsePem(text).find((b) => b.label === 'CERTIFICATE')?.der;
  return Buffer.from(text.slice(start + BEGIN.length, end), 'base64');
}

interface ReadCertificate {
  shown: NonNullable<ServiceStatus['certificate']>;
  notBefore: Date;
  notAfter: Date;
  /** The SAN's DNS names, lowercase. */
  dnsNames: string[];
}

/**
 * The fields status shows, read from the DER without checking the signature (OpenSSL's parse and a signature check
 * are most of the cost of 10,000 certificates): "self-signed" here means self-issued, subject and issuer the same.
 * A certificate the DER reader does not take is parsed by node as the inspector does.
 */
function readCertificate(der: Buffer): ReadCertificate {
  const fields = readCertificateFields(der, false);
  if (!fields) {
    const { summary, notBefore, notAfter, dnsNames } = parseCertificate(der);
    const { subject, issuer, serial, names, selfSigned } = summary;
    const shown = { subject, issuer, serial, notBefore: summary.notBefore, notAfter: summary.notAfter, names, selfSigned };
    return { shown, notBefore, notAfter, dnsNames };
  }
  const oneLine = (dn: string) => dn.split('\n').filter(Boolean).join(', ');
  const shown = {
    subject: oneLine(fields.subject),
    issuer: oneLine(fields.issuer),
    serial: fields.serial,
    notBefore: fields.notBefore.toISOString(),
    notAfter: fields.notAfter.toISOString(),
    names: (fields.san ?? []).map((e) => e.replace(/^(DNS|IP Address):/, '')),
    selfSigned: fields.subject === fields.issuer,
  };
  const dnsNames = (fields.san ?? []).filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
  return { shown, notBefore: fields.notBefore, notAfter: fields.notAfter, dnsNames };
}

function renewalStatus(
  notBefore: Date,
  notAfter: Date,
  summary: { issuer: string; selfSigned: boolean },
  now: Date,
  policy: Parameters<typeof serviceStatus>[3],
): RenewalStatus {
  if (notAfter.getTime() <= now.getTime()) return { due: true, rule: 'expired', dueAt: notAfter.toISOString(), reason: 'the certificate has expired' };
  if (notBefore.getTime() > now.getTime())
    return { due: true, rule: 'not-yet-valid', dueAt: notBefore.toISOString(), reason: 'the certificate is not valid yet' };
  const timing = renewalByLifetime(notBefore, notAfter, policy.providerIssued(summary.issuer), policy.thresholds);
  const due = now.getTime() >= timing.dueAt.getTime();
  if (!due && summary.selfSigned && policy.caConfigured)
    return { due: true, rule: 'self-signed', dueAt: null, reason: 'the certificate is self-signed while a CA is configured' };
  return { due, rule: timing.rule, dueAt: timing.dueAt.toISOString(), reason: timing.reason };
}
