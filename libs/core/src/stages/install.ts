import type { Issued, Issuer, KeyAndCsr } from '../contracts.js';
import { describeError } from '../errors.js';
import type { NewMaterial, ServiceId, Target } from '../model.js';
import type { ServiceState } from './inspect.js';
import type { RunContext } from './run-context.js';

/** The new certificate as installers take it. */
export function materialOf(run: RunContext, issued: Issued, csr: KeyAndCsr, issuer: Issuer): NewMaterial {
  const { certificatePem, chainPem } = issued;
  const summary = run.deps.inspector.summarize(certificatePem);
  return { certificatePem, chainPem, keyPem: csr.keyPem, summary, issuerId: issuer.id, selfSigned: !issuer.trusted };
}

/** The issued chain as the event shows it; a block that is not a certificate is left out, not fatal. */
export function chainSummaries(run: RunContext, chainPem: string[]) {
  return chainPem.flatMap((pem) => {
    try {
      return [run.deps.inspector.summarize(pem)];
    } catch {
      return [];
    }
  });
}

/**
 * Installs the certificate for each recipient; returns the services that now serve it. It is not handed the run's
 * interrupt signal: an install under way is finished or rolled back within its own bounds (reload timeout, proof
 * time), never cut half-way. A service whose install was undone gets a `failed` event marked `rolledBack`.
 */
export async function installFor(run: RunContext, target: Target, material: NewMaterial, recipients: ServiceState[]): Promise<ServiceId[]> {
  const installed: ServiceId[] = [];
  for (const recipient of recipients) {
    if (await installOne(run, target, material, recipient)) installed.push(recipient.service);
  }
  return installed;
}

async function installOne(run: RunContext, target: Target, material: NewMaterial, { service, installer }: ServiceState): Promise<boolean> {
  const at = { stage: 'install' as const, target: target.id, service, severity: 'error' as const };
  let receipt;
  try {
    receipt = await installer.install(target, material, { dryRun: false, signal: new AbortController().signal });
  } catch (error) {
    const { code, message } = describeError(error);
    run.fail({ ...at, code, message, next: 'the previous certificate stays', rolledBack: true });
    return false;
  }
  const proof = await installer.prove(receipt, AbortSignal.timeout(30_000));
  if (!proof.ok) {
    // The rollback restores, reloads and proves the previous certificate live; say which of that happened.
    let next = 'rolled back to the previous certificate';
    await installer.rollback(receipt).catch((error: unknown) => {
      const { code, message } = describeError(error);
      run.fail({ ...at, code, message: `rollback failed: ${message}`, next: 'fix by hand' });
      next = 'the rollback failed too (see the previous error)';
    });
    const message = `the new certificate is not served after reload (${proof.reason ?? 'no detail'})`;
    run.fail({ ...at, code: 'INSTALL_NOT_LIVE', message, next, rolledBack: true });
    return false;
  }
  const { files, reloaded, dryRun } = receipt;
  run.deps.bus.emit('installed', { target: target.id, service, files, reloaded, live: proof.observations, dryRun });
  return true;
}
