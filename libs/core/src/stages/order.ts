import type { IssueContext, Issued, Issuer, KeyAndCsr, Pending, PendingOrder } from '../contracts.js';
import { describeError, failureOf } from '../errors.js';
import { pendingIssuedEvent } from '../pending-deadline.js';
import { isoSeconds, rateLimitOf } from '../rate-limits.js';
import { chainSummaries, installFor, materialOf } from './install.js';
import type { IssueChain } from './issue-chain.js';
import type { TargetOutcome } from './outcome.js';
import { recordRateLimit } from './rate-limit-hold.js';
import { scheduleRetry } from './retry.js';

/** One order at one issuer, as the issue stage placed or resumed it. */
export interface PlacedOrder {
  issuer: Issuer;
  /** Its place in the usable chain. */
  index: number;
  saved: { order: PendingOrder; csr: KeyAndCsr } | null;
  names: string[];
  ctx: IssueContext;
  /** What the run does when this issuer gives nothing. */
  next: string;
}

/**
 * The CA is still working on the order: it is saved and resumed by the next run. A service that must not stay as
 * it is (no certificate, expired, ...) gets the self-signed stopgap meanwhile (undefined: go on down the chain).
 */
export async function orderPending(chain: IssueChain, order: PlacedOrder, result: Pending): Promise<TargetOutcome | undefined> {
  const { run, work } = chain;
  await chain.pending.save(result.order, chain.csr!);
  const event = pendingIssuedEvent(result.order, order.issuer.id, run.deps.clock.now());
  run.deps.bus.emit('issued', event);
  const actions = [`order ${result.order.reference} at "${order.issuer.id}" is still being processed; it is resumed by the next run`];
  if (event.heldBy) actions.push(`order held by: ${event.heldBy}`);
  if (work.options.allowRetry && !work.options.signal.aborted) actions.push(await scheduleRetry(run, work.target, work.options));
  if (chain.mustReplace && chain.usable.slice(order.index + 1).some((i) => !i.trusted)) {
    chain.pendingActions = actions;
    return undefined;
  }
  return { result: 'pending', actions };
}

/** A certificate in hand: checked against what was ordered, then installed for the services that take it. */
export async function orderIssued(chain: IssueChain, order: PlacedOrder, result: Issued): Promise<TargetOutcome | undefined> {
  const { run, work } = chain;
  const { issuer } = order;
  if (issuer.trusted) await chain.pending.clear(work.target.id, issuer.id);
  const material = materialOf(run, result, chain.csr!, issuer);
  const problems = run.deps.inspector.verifyIssued(material, order.names, run.deps.clock.now());
  if (problems.length) {
    const message = `refused the certificate from "${issuer.id}": ${problems.map((p) => p.message).join('; ')}`;
    run.fail({ stage: 'issue', target: work.target.id, issuer: issuer.id, code: 'ISSUED_MISMATCH', message, next: order.next, severity: 'error' });
    return undefined;
  }
  const { summary, selfSigned } = material;
  const chainSummary = chainSummaries(run, material.chainPem);
  run.deps.bus.emit('issued', {
    target: work.target.id,
    issuer: issuer.id,
    status: 'issued',
    summary,
    chain: chainSummary,
    selfSigned,
    ...(result.profile ? { profile: result.profile } : {}),
  });
  // A certificate in hand is installed even when an interrupt came meanwhile: the install under way is finished
  // (or rolled back), never cut; only what would follow it is not started.
  const recipients = issuer.trusted ? [...work.toReplace, ...work.toUpgrade] : work.toReplace;
  const installed = await installFor(run, work.target, material, recipients);
  const notInstalled = recipients.filter((r) => !installed.includes(r.service)).map((r) => r.service);
  const what = selfSigned ? 'self-signed certificate' : `certificate from "${issuer.id}"`;
  const { pendingActions } = chain;
  const actions = [...(pendingActions ?? [])];
  if (installed.length) actions.push(`installed a ${what} for ${installed.join(', ')}${pendingActions ? ' until the pending order completes' : ''}`);
  if (notInstalled.length) actions.push(`not installed for ${notInstalled.join(', ')}: rolled back, the previous certificate stays (see the errors)`);
  if (chain.retryable && work.options.allowRetry && !pendingActions && !work.options.signal.aborted)
    actions.push(await scheduleRetry(run, work.target, work.options, chain.notBefore));
  return { result: notInstalled.length === 0 ? (pendingActions ? 'pending' : 'replaced') : 'failed', actions };
}

/**
 * The issuer failed: said, and the chain goes on. A failure that may pass makes a retry worth scheduling; a rate limit
 * is recorded so that later runs do not ask before the CA said they may, and while the certificate in place is still
 * valid (nothing to 'replace') it is a warning: that certificate simply stays.
 */
export async function orderFailed(chain: IssueChain, order: PlacedOrder, error: unknown): Promise<void> {
  const { run, work } = chain;
  const { issuer, index } = order;
  const { code, message } = describeError(error);
  const limit = issuer.trusted ? rateLimitOf(error) : null;
  if (issuer.trusted && (limit || failureOf(error) === 'transient')) chain.retryable = true;
  const at = { stage: 'issue' as const, target: work.target.id, issuer: issuer.id, code, next: order.next };
  const last = index + 1 >= chain.usable.length;
  if (!limit) return run.fail({ ...at, message, severity: last ? 'error' : 'warning' });
  const until = await recordRateLimit(run, work.target, issuer.id, code, limit, order.names);
  if (until) chain.holdUntil(until.at);
  const severity = !chain.mustReplace || !last ? 'warning' : 'error';
  run.fail({ ...at, message: `${message}${until?.text ?? ''}`, severity, ...(until ? { until: isoSeconds(until.at) } : {}) });
}
