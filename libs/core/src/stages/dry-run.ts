import type { Issuer } from '../contracts.js';
import type { Target } from '../model.js';
import type { ServiceState } from './inspect.js';
import { nextStepAfter } from './issue-chain.js';
import { proveNames, type Proof, type Refusal } from './prove.js';
import type { RunContext } from './run-context.js';

/** What a run would do about one target, as far as reading allows: the data a dry run prints. */
export interface OrderPlan {
  /** The issuer chain, in order. */
  chain: Issuer[];
  /** The first CA of the chain, and what its read-only proof found. */
  ca?: { issuer: Issuer; proof: Proof; next: string };
  /** The names the certificate would be issued for; none when no issuer of the chain would serve. */
  issuing: string[] | null;
  /** The self-signed end of the chain stands in for a refused CA. */
  selfSigned: boolean;
  /** What each recipient service would get, file by file. */
  installs: { service: string; files: string[]; reload: string[] | null }[];
  recipients: string[];
}

/**
 * Plans one target without writing: local DCV through each method's read-only pre-check (no file, no record) and
 * CAA, through the same proof a run makes. Null when an interrupt cut it short.
 */
export async function planOrder(
  run: RunContext,
  target: Target,
  chain: Issuer[],
  names: string[],
  recipients: ServiceState[],
  signal: AbortSignal,
): Promise<OrderPlan | null> {
  const mustReplace = recipients.some((r) => r.action === 'replace');
  const ca = chain.find((i) => i.trusted);
  const plan: OrderPlan = { chain, issuing: names, selfSigned: !ca, installs: [], recipients: recipients.map((s) => s.service) };
  if (ca) {
    const next = nextStepAfter(chain, chain.indexOf(ca), mustReplace);
    const proof = await proveNames(run, target, { issuer: ca, names, next, verdicts: new Map(), readOnly: true }, signal);
    if (proof.outcome === 'interrupted') return null;
    plan.ca = { issuer: ca, proof, next };
    if (proof.outcome === 'proved') plan.issuing = proof.names;
    else {
      // The first issuer that could serve instead: the self-signed end (every name), for what must be replaced.
      const fallback = chain.slice(chain.indexOf(ca) + 1).find((i) => !i.trusted && mustReplace);
      plan.issuing = fallback ? names : null;
      plan.selfSigned = true;
      if (fallback) recipients = recipients.filter((r) => r.action === 'replace');
    }
  }
  if (plan.issuing)
    for (const { service, installer } of recipients) {
      const files = installer.plan?.({ selfSigned: plan.selfSigned }, target);
      if (files) plan.installs.push({ service, ...files });
    }
  return plan;
}

const REFUSALS: Record<Refusal, string> = {
  'dcv-unavailable': 'local DCV cannot run (see the errors)',
  'primary-failed': 'the primary name {primary} fails local DCV (see the warnings)',
  'names-failed': 'names fail local DCV and dcv.requireAllNames is set',
  'caa-forbids': 'CAA forbids it (see the warnings)',
};

/** The plan in words, one action per line, as the report shows a dry run. */
export function describePlan(plan: OrderPlan, target: Target): string[] {
  const lines: string[] = [];
  const { ca } = plan;
  if (plan.issuing) {
    const chain = plan.chain.map((i) => i.id).join(' → ');
    lines.push(`would issue a certificate for ${plan.issuing.join(', ')} (issuers: ${chain}) and install it for ${plan.recipients.join(', ')}`);
  }
  if (ca?.proof.outcome === 'refused') {
    const why = REFUSALS[ca.proof.refusal].replace('{primary}', target.names[0]!);
    lines.push(`would not order from "${ca.issuer.id}": ${why}; the run would ${ca.next}`);
  }
  const proof = ca?.proof;
  // Names that failed local DCV are left out once the DCV step itself let the order go on.
  const dcvPassed = proof?.outcome === 'proved' || (proof?.outcome === 'refused' && proof.refusal === 'caa-forbids');
  if (dcvPassed && proof.failedDcv.length > 0) lines.push(`would leave out of the order, as they fail local DCV: ${proof.failedDcv.join(', ')}`);
  if (proof?.outcome === 'proved' && proof.forbiddenByCaa.length > 0)
    lines.push(`would leave out of the "${ca!.issuer.id}" order, as CAA forbids them: ${proof.forbiddenByCaa.join(', ')}`);
  for (const { service, files, reload } of plan.installs)
    lines.push(`would write for ${service}: ${files.join(', ')}${reload ? `; then reload with "${reload.join(' ')}"` : '; no reload command'}`);
  return lines;
}
