import { abandonsOrders, checksPendingOrders, type Clock, type IssueContext, type Issuer, type KeyAndCsr, type PendingOrder } from './contracts.js';
import { describeError } from './errors.js';
import type { FailedEvent, IssuedEvent } from './events.js';
import { abandonPlan, formatAge, heldBy, reportAuthorizations } from './pending-report.js';
import type { PendingOrderStore } from './pending-store.js';

type Saved = { order: PendingOrder; csr: KeyAndCsr };

/**
 * The saved pending order of a target at an issuer. A file edited by hand into nonsense is a warning naming the file;
 * it is moved aside and the target goes on as if no order were pending (a new order replaces it).
 */
export async function loadPendingOrder(store: PendingOrderStore, target: string, issuer: string, fail: (e: FailedEvent) => void): Promise<Saved | null> {
  try {
    return await store.load(target, issuer);
  } catch (error) {
    const { code, message } = describeError(error);
    const aside = await store.setAside(target, issuer).then(
      (to) => `moved aside to ${to}; `,
      () => '',
    );
    fail({ stage: 'issue', target, issuer, code, message, next: `${aside}go on as if no order were pending`, severity: 'warning' });
    return null;
  }
}

/**
 * Past `retry.abandonPendingAfterHours`, a pending order that some names still hold is abandoned: the issuer is
 * asked how the order stands now (a holder may have passed since the last run), then to give it up (ACME: its open
 * authorizations are deactivated, RFC 8555 section 7.5.2, and its challenges removed); the saved order is forgotten
 * and an ORDER_ABANDONED warning names the names dropped and the age. Returns the names to leave out of the new
 * order, or null when the order is to be resumed as usual. The primary name is never dropped: when it holds the
 * order, the new order tries it again from scratch (fresh authorizations, since the old ones are deactivated).
 */
export async function abandonIfOverdue(args: {
  saved: Saved;
  issuer: Issuer;
  ctx: IssueContext;
  store: PendingOrderStore;
  clock: Clock;
  afterHours: number;
  primary: string;
  fail: (e: FailedEvent) => void;
}): Promise<string[] | null> {
  const { saved, issuer, ctx, store, clock, afterHours, primary, fail } = args;
  const now = clock.now();
  if (!abandonPlan(saved.order, now, afterHours, primary)) return null;
  let order = saved.order;
  if (checksPendingOrders(issuer)) {
    try {
      order = await issuer.checkPending(saved.order, ctx);
    } catch (error) {
      // The CA cannot say how it stands now: decide on what the last run saw.
      const { code, message } = describeError(error);
      fail({
        stage: 'issue',
        target: order.target,
        issuer: issuer.id,
        code,
        message: `could not read the pending order ${order.reference} again: ${message}`,
        next: 'decide on what the last run saw',
        severity: 'warning',
      });
    }
  }
  const plan = abandonPlan(order, now, afterHours, primary);
  if (!plan) return null;
  let undone = 'nothing undone at the CA';
  if (abandonsOrders(issuer)) {
    undone = await issuer.abandon(order, ctx).catch((error: unknown) => `could not undo it at the CA (${describeError(error).message})`);
  }
  await store.clear(order.target, order.issuer);
  const reports = reportAuthorizations(order, now);
  const holders = plan.holders.length ? `held by ${heldBy(order, reports)}` : 'its authorizations were never read';
  const dropped = plan.dropped.length ? `dropped from the new order: ${plan.dropped.join(', ')}` : 'no name dropped';
  const primaryNote = plan.primaryHeld ? `; the primary name ${primary} cannot be dropped, so the new order tries it again from scratch` : '';
  fail({
    stage: 'issue',
    target: order.target,
    issuer: issuer.id,
    code: 'ORDER_ABANDONED',
    message: `the order ${order.reference} is ${formatAge(plan.ageMs)} old (more than retry.abandonPendingAfterHours = ${afterHours}h), ${holders}: abandoned (${undone}); ${dropped}${primaryNote}`,
    next: 'place a new order',
    severity: 'warning',
  });
  return plan.dropped;
}

/** The `issued` event for an order still pending, with the per-name report and who holds the order. */
export function pendingIssuedEvent(order: PendingOrder, issuer: string, now: Date): Extract<IssuedEvent, { status: 'pending' }> {
  const event: Extract<IssuedEvent, { status: 'pending' }> = { target: order.target, issuer, status: 'pending', order: order.reference, detail: order.detail };
  if (!order.authorizations) return event;
  const authorizations = reportAuthorizations(order, now);
  return { ...event, createdAt: order.createdAt, orderStatus: order.orderStatus, authorizations, heldBy: heldBy(order, authorizations) };
}
