import type { InspectionPolicy, Installer, Issuer } from '../contracts.js';
import type { FailedEvent, InspectEvent } from '../events.js';
import type { Defect, ServiceId, ServiceMaterial, Target } from '../model.js';
import type { CoveredCertificate } from '../coverage.js';
import type { RunContext } from './run-context.js';

/** One service as the inspection left it: its certificate, what is wrong with it and what the run does about it. */
export interface ServiceState extends CoveredCertificate {
  service: ServiceId;
  installer: Installer;
  action: InspectEvent['action'];
}

/** What the inspection of one target found, and the events it says once it is known to stand. */
export interface TargetInspection {
  states: ServiceState[];
  /** A service had no installer. */
  broken: boolean;
  /** An install of an earlier run was cut short; finishing it writes. */
  interrupted: boolean;
  /** The run was interrupted: the inspection says nothing reliable. */
  aborted: boolean;
  /** Something is to be written (a repair, a new certificate, recovery): the target's lock is needed. */
  writes: boolean;
  /** The provider certificate in place, for RFC 9773's `replaces` on the renewal order. */
  current?: { pem: string; issuer: string };
  said: ({ inspect: InspectEvent } | { failed: FailedEvent })[];
}

/** The inspection of one target: reads every service's material and decides per service what the run does. */
export async function inspectTarget(run: RunContext, target: Target, chain: Issuer[], locked: boolean, signal: AbortSignal): Promise<TargetInspection> {
  const policy = inspectionPolicy(run, chain);
  const found: TargetInspection = { states: [], broken: false, interrupted: false, aborted: false, writes: false, said: [] };
  for (const service of target.services) {
    if (signal.aborted) break;
    const installer = run.deps.installers.find((i) => i.service === service);
    if (!installer) {
      found.said.push({ failed: noInstaller(target, service) });
      found.broken = true;
      continue;
    }
    await inspectService(run, { target, chain, policy, installer, locked, signal }, found);
  }
  found.aborted = signal.aborted;
  const { noServiceManagement } = run.deps.switches;
  const repairs = !noServiceManagement && found.states.some((s) => s.defects.some((d) => d.repair));
  found.writes = found.interrupted || (!noServiceManagement && (repairs || found.states.some((s) => s.action !== 'keep')));
  return found;
}

interface ServiceInspection {
  target: Target;
  chain: Issuer[];
  policy: InspectionPolicy;
  installer: Installer;
  locked: boolean;
  signal: AbortSignal;
}

async function inspectService(run: RunContext, how: ServiceInspection, found: TargetInspection): Promise<void> {
  const { target, chain, policy, installer, signal } = how;
  const { config, switches, clock, inspector } = run.deps;
  // A deadline only where the inspection asks the network (live checks, ARI): a timer per service is a cost
  // on a healthy run over 10,000 targets.
  const deadline = () => AbortSignal.any([signal, AbortSignal.timeout(config.inspection.timeoutMs * 3)]);
  const probeSignal = policy.live ? deadline() : signal;
  const material = await installer.read(target, { locked: how.locked });
  if (material.interrupted) found.interrupted = true;
  const inspection = await inspector.inspect(material, { target, now: clock.now(), policy, signal: probeSignal });
  if (inspection.providerIssued) {
    const leaf = () => leafPemOf(material);
    inspection.defects = await run.advisor.adjust(chain, leaf, inspection.summary, inspection.defects, policy.live ? probeSignal : deadline());
  }
  const action = switches.noServiceManagement ? 'keep' : decideAction(inspection.defects, policy.caConfigured);
  // Only a certificate about to be replaced is named in `replaces`; the healthy path never reads its PEM here.
  const leaf = action !== 'keep' && inspection.providerIssued && inspection.summary && !found.current ? leafPemOf(material) : undefined;
  if (leaf) found.current = { pem: leaf, issuer: inspection.summary!.issuer };
  const { files, live, summary, chain: issuedChain, defects, providerIssued } = inspection;
  const service = installer.service;
  found.said.push({
    inspect: { target: target.id, service, files, live, summary, chain: issuedChain, defects, status: statusOf(defects), action, providerIssued },
  });
  found.states.push({ service, installer, action, summary, defects });
}

function inspectionPolicy(run: RunContext, chain: Issuer[]): InspectionPolicy {
  const { inspection } = run.deps.config;
  return {
    providerIssuerPatterns: [...run.providerPatterns, ...chain.flatMap((i) => i.issuerPatterns)],
    providerThresholdDays: inspection.providerThresholdDays,
    otherThresholdDays: inspection.otherThresholdDays,
    caConfigured: chain.some((i) => i.trusted),
    live: inspection.live,
  };
}

function noInstaller(target: Target, service: ServiceId): FailedEvent {
  return {
    stage: 'inspect',
    target: target.id,
    service,
    code: 'NO_INSTALLER',
    message: `no installer for service "${service}": add the plugin that provides it to "plugins"`,
    next: 'skip this service',
    severity: 'error',
  };
}

/** Says what the inspection found, once it is known that it stands (not redone under the target's lock). */
export function sayInspection(run: RunContext, found: TargetInspection): void {
  for (const said of found.said) {
    if ('inspect' in said) run.deps.bus.emit('inspect', said.inspect);
    else run.fail(said.failed);
  }
}

/** The leaf PEM of a service's certificate file, or undefined when it has none readable. */
function leafPemOf(material: ServiceMaterial): string | undefined {
  const source = material.sources.find((s) => 'bytes' in s && (s.role === 'certificate' || s.role === 'combined'));
  const block =
    source && 'bytes' in source
      ? /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(Buffer.from(source.bytes).toString('utf8'))?.[0]
      : undefined;
  return block ? `${block}\n` : undefined;
}

/** What the run does about one service's certificate. */
export function decideAction(defects: Defect[], caConfigured: boolean): InspectEvent['action'] {
  if (defects.some((d) => d.severity === 'replace')) return 'replace';
  if (caConfigured && defects.some((d) => d.severity === 'upgrade')) return 'upgrade';
  return 'keep';
}

/** cPanel's "TLS Status" words. */
export function statusOf(defects: Defect[]): InspectEvent['status'] {
  const serious = defects.filter((d) => d.severity === 'replace' || d.severity === 'upgrade');
  if (serious.length === 0) return 'OK';
  if (serious.every((d) => d.renewal)) return 'Ready for Renewal';
  return 'Defective';
}
