import { join } from 'node:path';
import {
  resumesOrders,
  type IssueContext,
  type Issued,
  type Issuer,
  type KeyAndCsr,
  type Pending,
  type PendingOrder,
  type ResumesOrders,
} from '../contracts.js';
import { issuerStateDir } from '../config/config.js';
import { CertsmithError, describeError, failureOf } from '../errors.js';
import { abandonIfOverdue, loadPendingOrder } from '../pending-deadline.js';
import { PendingOrderStore } from '../pending-store.js';
import type { Target } from '../model.js';
import { deferShrinking } from './keep-rules.js';
import type { DcvVerdicts } from './local-dcv.js';
import { interrupted, type TargetOutcome } from './outcome.js';
import { orderFailed, orderIssued, orderPending } from './order.js';
import { proveNames, type Proof } from './prove.js';
import { rateLimitHold } from './rate-limit-hold.js';
import type { ServiceState } from './inspect.js';
import { scheduleRetry } from './retry.js';
import type { RunContext, RunOptions } from './run-context.js';

type Saved = { order: PendingOrder; csr: KeyAndCsr };

/** What the issue stage works on: the target, the services to replace or upgrade, and what earlier stages did. */
export interface IssueWork {
  target: Target;
  options: RunOptions;
  chain: Issuer[];
  toReplace: ServiceState[];
  toUpgrade: ServiceState[];
  /** The names to order (the target's, minus those the config excludes). */
  names: string[];
  /** What the repair stage did, in words. */
  repaired: string[];
  /** The provider certificate in place, for RFC 9773's `replaces`. */
  current?: { pem: string; issuer: string };
  verdicts: DcvVerdicts;
}

/**
 * Down the issuer chain until one gives a certificate that is installed, an order is pending, or none is left.
 * A failure at one issuer is a `failed` event and the next issuer, never an exception out of the target.
 */
export class IssueChain {
  readonly usable: Issuer[];
  readonly pending: PendingOrderStore;
  names: string[];
  /** One key per run of a target, a new CSR only when local DCV changed the names. */
  csr: KeyAndCsr | undefined;
  csrNames = '';
  /** A CA path that failed for a reason that may pass (CA down, rate limit): --allow-retry schedules a re-run. */
  retryable = false;
  /** The latest time a CA said to come back: a scheduled retry before it would only be refused again. */
  notBefore: Date | undefined;
  /** An order left pending while the chain goes on to the self-signed stopgap. */
  pendingActions: string[] | undefined;

  constructor(
    readonly run: RunContext,
    readonly work: IssueWork,
  ) {
    this.usable = work.chain.filter((issuer) => issuer.trusted || work.toReplace.length > 0);
    this.pending = new PendingOrderStore(join(run.deps.config.paths.stateDir, 'pending'));
    this.names = work.names;
  }

  get mustReplace(): boolean {
    return this.work.toReplace.length > 0;
  }

  /** What was done before an interrupt, for its action line. */
  get done(): string[] {
    return [...this.work.repaired, ...(this.pendingActions ?? [])];
  }

  holdUntil(at: Date): void {
    this.retryable = true;
    if (!this.notBefore || at > this.notBefore) this.notBefore = at;
  }

  async issue(): Promise<TargetOutcome> {
    for (const [index, issuer] of this.usable.entries()) {
      // An interrupt starts no new DCV or order; an order this target left pending stays saved for the next run.
      if (this.work.options.signal.aborted) return interrupted('the orders', this.done);
      const outcome = await this.tryIssuer(issuer, index);
      if (outcome) return outcome;
    }
    return this.exhausted();
  }

  /** One issuer: its saved order or a proved new one, then the order itself. Undefined: go on to the next issuer. */
  private async tryIssuer(issuer: Issuer, index: number): Promise<TargetOutcome | undefined> {
    const { target, options } = this.work;
    const next = nextStepAfter(this.usable, index, this.mustReplace);
    const ctx: IssueContext = { ...this.contextBase(), stateDir: issuerStateDir(this.run.deps.config, issuer.id) };
    const saved = await this.savedOrder(issuer, ctx);
    let orderNames = saved ? saved.order.names : this.names;
    if (issuer.trusted) {
      const warning = !this.mustReplace || index + 1 < this.usable.length;
      const held = await rateLimitHold(this.run, target, issuer, orderNames, { next, warning });
      if (held) return void this.holdUntil(held);
    }
    if (!saved) {
      const proof = await proveNames(this.run, target, { issuer, names: this.names, next, verdicts: this.work.verdicts, readOnly: false }, options.signal);
      if (proof.outcome === 'interrupted') return interrupted(proof.during, this.done);
      if (proof.outcome === 'refused') return void this.sayRefusal(issuer, proof, next);
      orderNames = proof.names;
      const deferred = issuer.trusted ? deferShrinking(this.run, target, issuer, [...this.work.toReplace, ...this.work.toUpgrade], orderNames) : null;
      if (deferred) return { result: 'kept', actions: [...this.work.repaired, deferred] };
    }
    const order = { issuer, index, saved, names: orderNames, ctx, next };
    try {
      const result = saved && resumesOrders(issuer) ? await this.resume(issuer, saved, ctx) : await this.place(order.issuer, orderNames, ctx);
      return result.status === 'pending' ? await orderPending(this, order, result) : await orderIssued(this, order, result);
    } catch (error) {
      // An order cut short by an interrupt is not a CA failure: no fallback, no retry; a pending order stays saved.
      if (options.signal.aborted) return interrupted('the order', this.done);
      return void (await orderFailed(this, order, error));
    }
  }

  private contextBase() {
    const { bus, dcv, clock } = this.run.deps;
    return { bus, dcv, clock, signal: this.work.options.signal };
  }

  /** An order a previous run left with the CA, to resume (same names only); past the deadline it is given up. */
  private async savedOrder(issuer: Issuer, ctx: IssueContext): Promise<Saved | null> {
    const { target } = this.work;
    const fail = this.run.fail.bind(this.run);
    let saved = issuer.trusted && resumesOrders(issuer) ? await loadPendingOrder(this.pending, target.id, issuer.id, fail) : null;
    if (saved && saved.order.names.join() !== this.names.filter((n) => saved!.order.names.includes(n)).join()) saved = null;
    if (!saved) return null;
    // Past the deadline, an order some names still hold is given up; the new one goes without them.
    const { clock, config } = this.run.deps;
    const afterHours = config.retry.abandonPendingAfterHours;
    const dropped = await abandonIfOverdue({ saved, issuer, ctx, store: this.pending, clock, afterHours, primary: target.names[0]!, fail });
    if (!dropped) return saved;
    this.names = this.names.filter((n) => !dropped.includes(n));
    return null;
  }

  private sayRefusal(issuer: Issuer, proof: Extract<Proof, { outcome: 'refused' }>, next: string): void {
    const { target } = this.work;
    const at = { stage: 'dcv' as const, target: target.id, issuer: issuer.id, next, severity: 'warning' as const };
    if (proof.refusal === 'dcv-unavailable') this.run.fail({ ...at, code: 'DCV_PRIMARY_FAILED', message: 'local DCV could not run' });
    else if (proof.refusal === 'primary-failed')
      this.run.fail({ ...at, code: 'DCV_PRIMARY_FAILED', message: `the primary name ${target.names[0]} did not pass local DCV` });
    else if (proof.refusal === 'names-failed') {
      const message = `names failed local DCV and dcv.requireAllNames is set: ${proof.failedDcv.join(', ')}`;
      this.run.fail({ ...at, code: 'DCV_NAMES_FAILED', message });
    }
    // A CAA refusal was said by the CAA check itself.
  }

  private async resume(issuer: Issuer & ResumesOrders, saved: Saved, ctx: IssueContext): Promise<Issued | Pending> {
    this.csr = saved.csr;
    this.csrNames = saved.order.names.join();
    try {
      return await this.run.throughOrderGates(issuer, ctx.signal, () => issuer.resume(saved.order, saved.csr, ctx));
    } catch (error) {
      if (this.work.options.signal.aborted || failureOf(error) !== 'refused') throw error;
      // The CA no longer has that order: forget it; the next run orders afresh after local DCV.
      const { code, message } = describeError(error);
      await this.pending.clear(this.work.target.id, issuer.id);
      throw new CertsmithError(code, `the pending order ${saved.order.reference} cannot be resumed: ${message}`);
    }
  }

  private async place(issuer: Issuer, names: string[], ctx: IssueContext): Promise<Issued | Pending> {
    if (!this.csr || this.csrNames !== names.join()) {
      this.csr = await this.run.deps.csrFactory.create(names, this.run.deps.config.key);
      this.csrNames = names.join();
    }
    const { current, target } = this.work;
    const replaces = current && issuer.issuerPatterns.some((p) => p.test(current.issuer)) ? current.pem : undefined;
    const request = { target, names, csr: this.csr, ...(replaces ? { replaces } : {}) };
    return this.run.throughOrderGates(issuer, ctx.signal, () => issuer.issue(request, ctx));
  }

  /** No issuer gave a certificate: the one in place stays (or the target failed), with a retry when one may help. */
  private async exhausted(): Promise<TargetOutcome> {
    const { target, options } = this.work;
    if (options.signal.aborted) return interrupted('the orders', this.done);
    if (this.pendingActions) return { result: 'pending', actions: [...this.pendingActions, 'the self-signed stopgap could not be installed either'] };
    const kept = 'no CA certificate could be had; the current certificate stays';
    const [result, said] = this.mustReplace ? (['failed', 'no issuer produced a certificate'] as const) : (['kept', kept] as const);
    const actions: string[] = [said];
    if (this.retryable && options.allowRetry) actions.push(await scheduleRetry(this.run, target, options, this.notBefore));
    return { result, actions };
  }
}

/** What the run does when the issuer at `index` gives nothing: the next one, the self-signed end, or keep. */
export function nextStepAfter(issuers: readonly Issuer[], index: number, mustReplace: boolean): string {
  const following = issuers[index + 1];
  return following ? `try issuer "${following.id}"` : mustReplace ? 'no issuer left' : 'keep the current certificate';
}
