import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import type { CertsmithConfig } from './config/config.js';
import type {
  Challenge,
  Clock,
  CsrFactory,
  DcvCheckOptions,
  DcvMethod,
  InspectionPolicy,
  Inspector,
  Installer,
  Issuer,
  KeyAndCsr,
  NameVerdict,
  Resolver,
  Scheduler,
} from './contracts.js';
import { caaPrecheck } from './caa.js';
import { CertsmithError, describeError } from './errors.js';
import type { Bus, FailedEvent, InspectEvent } from './events.js';
import type { Defect, NewMaterial, ServiceId, ServiceMaterial, Target } from './model.js';
import type { RunReportCollector, TargetResult } from './report.js';
import type { Switches } from './switches.js';
import { comparableName } from './names.js';
import { PendingOrderStore } from './pending-store.js';
import { RateLimitLedger, isoSeconds, rateLimitOf } from './rate-limits.js';
import { abandonIfOverdue, loadPendingOrder, pendingIssuedEvent } from './pending-deadline.js';
import { RunLock } from './run-lock.js';
import { DEFAULT_ORDERS_IN_FLIGHT, OrderGate } from './order-gate.js';
import { RenewalAdvisor } from './renewal-advice.js';
import { mayShrink, namesLost, uncoveredOnly, type CoveredCertificate } from './coverage.js';

/** process() found something to write: take the target's lock and inspect again. */
const LOCK_NEEDED = Symbol('lock needed');

/** Local DCV verdicts already said in this run of a target, by method, address preference and name. */
type DcvVerdicts = Map<string, boolean>;

/** The action a target stopped by SIGINT/SIGTERM reports. */
function interruptedAction(where: string): string {
  return `interrupted during ${where}: nothing new was started; what was installed before stays`;
}

export interface RunOptions {
  dryRun: boolean;
  /** Schedule one re-run later when an order is still pending (`--allow-retry`). */
  allowRetry: boolean;
  /** The command that the retry runs. */
  retryCommand: string[];
  /** Targets checked at once. */
  concurrency: number;
  signal: AbortSignal;
  /** Called when a target is finished, e.g. to print its block of the log. */
  onTargetDone?: (target: string) => void;
}

export interface PipelineDeps {
  config: CertsmithConfig;
  switches: Switches;
  bus: Bus;
  clock: Clock;
  inspector: Inspector;
  csrFactory: CsrFactory;
  issuers: Issuer[];
  installers: Installer[];
  dcv: DcvMethod[];
  scheduler?: Scheduler;
  report: RunReportCollector;
  /** For the CAA step of the pre-order proof (when it offers lookupCaa). */
  resolver?: Resolver;
}

interface ServiceState extends CoveredCertificate {
  service: ServiceId;
  installer: Installer;
  action: InspectEvent['action'];
}

/**
 * One run over the targets: inspect → (healthy: stop) → local DCV → issue (issuer chain, self-signed last) → install.
 * Every step is an event on the bus; a failure anywhere is a `failed` event and the next fallback, never an
 * exception out of a target. Targets are independent.
 */
export class Pipeline {
  private readonly advisor: RenewalAdvisor;

  /** The config's provider matchers, compiled once per run rather than once per target (10,000 targets on the healthy path). */
  private readonly providerPatterns: RegExp[];

  /** The CAs' rate limits, so a run does not ask again before the CA said it may (read once per run). */
  private readonly rateLimits: RateLimitLedger;

  /** One gate per issuer: the CA sees no more orders at once than the issuer allows, whatever the run's concurrency. */
  private readonly orderGates = new Map<string, OrderGate>();

  constructor(private readonly deps: PipelineDeps) {
    this.providerPatterns = deps.config.inspection.providerIssuerPatterns.map((p) => new RegExp(p, 'i'));
    this.rateLimits = new RateLimitLedger(join(deps.config.paths.stateDir, 'rate-limits.json'), () => deps.clock.now());
    this.advisor = new RenewalAdvisor(() => deps.clock.now());
  }
  private orderGate(issuer: Issuer): OrderGate {
    let gate = this.orderGates.get(issuer.id);
    if (!gate) this.orderGates.set(issuer.id, (gate = new OrderGate(issuer.ordersInFlight ?? DEFAULT_ORDERS_IN_FLIGHT)));
    return gate;
  }

  async run(targets: Target[], options: RunOptions): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < targets.length && !options.signal.aborted) {
        const target = targets[next++]!;
        await this.runTarget(target, options);
        options.onTargetDone?.(target.id);
      }
    };
    for (const target of targets) this.deps.report.begin(target.id, target.names);
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, targets.length)) }, worker));
    // An interrupt starts no new target: those not reached are said to be unchecked, not healthy.
    for (const target of targets.slice(next)) this.deps.report.conclude(target.id, 'interrupted', ['not checked: the run was interrupted']);
  }

  async runTarget(target: Target, options: RunOptions): Promise<TargetResult> {
    const { report, config } = this.deps;
    // One lock per target, so a manual `check --target` and the scheduled run never touch the same files at once.
    // Inspecting only reads: the lock is taken once the inspection finds something to write, and the target is then
    // inspected again under it, so that what a concurrent run has just replaced is not replaced again. A healthy
    // run over 10,000 targets takes no lock file at all.
    let lock: RunLock | undefined;
    try {
      let outcome = await this.process(target, options, false);
      if (outcome === LOCK_NEEDED) {
        try {
          lock = await RunLock.acquire(join(config.paths.stateDir, 'locks'), `${target.id}.lock`);
        } catch (error) {
          const { code, message } = describeError(error);
          this.fail({
            stage: 'inspect',
            target: target.id,
            code: code === 'RUN_LOCKED' ? 'TARGET_LOCKED' : code,
            message,
            next: 'skip this target; the other run handles it',
            severity: 'warning',
          });
          report.conclude(target.id, 'skipped', ['skipped: another run is working on this target']);
          return 'skipped';
        }
        outcome = await this.process(target, options, true);
      }
      const [result, actions] = outcome as [TargetResult, string[]];
      report.conclude(target.id, result, actions);
      return result;
    } catch (error) {
      if (options.signal.aborted) {
        report.conclude(target.id, 'interrupted', [interruptedAction('this target')]);
        return 'interrupted';
      }
      const { code, message } = describeError(error);
      this.fail({ stage: 'inspect', target: target.id, code, message, next: 'skip this target', severity: 'error' });
      report.conclude(target.id, 'failed', [`stopped: ${message}`]);
      return 'failed';
    } finally {
      await lock?.release();
    }
  }

  /** Without `locked`, stops with LOCK_NEEDED (having emitted nothing) where the target needs a write. */
  private async process(target: Target, options: RunOptions, locked: boolean): Promise<[TargetResult, string[]] | typeof LOCK_NEEDED> {
    const { config, switches, bus, clock, inspector } = this.deps;
    const chain = this.issuerChain(target);
    const caConfigured = chain.some((i) => i.trusted);
    const policy: InspectionPolicy = {
      providerIssuerPatterns: [...this.providerPatterns, ...chain.flatMap((i) => i.issuerPatterns)],
      providerThresholdDays: config.inspection.providerThresholdDays,
      otherThresholdDays: config.inspection.otherThresholdDays,
      caConfigured,
      live: config.inspection.live,
    };

    // 1. inspect (its events wait until it is known whether this inspection stands or is redone under the lock)
    const states: ServiceState[] = [];
    let broken = false;
    let interrupted = false;
    const held: (() => void)[] = [];
    // The provider certificate in place, for RFC 9773's `replaces` on the renewal order.
    let current: { pem: string; issuer: string } | undefined;
    for (const service of target.services) {
      if (options.signal.aborted) break;
      const installer = this.deps.installers.find((i) => i.service === service);
      if (!installer) {
        held.push(() =>
          this.fail({
            stage: 'inspect',
            target: target.id,
            service,
            code: 'NO_INSTALLER',
            message: `no installer for service "${service}": add the plugin that provides it to "plugins"`,
            next: 'skip this service',
            severity: 'error',
          }),
        );
        broken = true;
        continue;
      }
      // A deadline only where the inspection asks the network (live checks, ARI): a timer per service is a cost
      // on a healthy run over 10,000 targets.
      const deadline = () => AbortSignal.any([options.signal, AbortSignal.timeout(config.inspection.timeoutMs * 3)]);
      const signal = policy.live ? deadline() : options.signal;
      const material = await installer.read(target);
      if (material.interrupted) interrupted = true;
      const inspection = await inspector.inspect(material, { target, now: clock.now(), policy, signal });
      if (inspection.providerIssued) {
        inspection.defects = await this.advisor.adjust(
          chain,
          () => leafPemOf(material),
          inspection.summary,
          inspection.defects,
          policy.live ? signal : deadline(),
        );
      }
      const action = switches.noServiceManagement ? 'keep' : decideAction(inspection.defects, caConfigured);
      // Only a certificate about to be replaced is named in `replaces`; the healthy path never reads its PEM here.
      const leaf = action !== 'keep' && inspection.providerIssued && inspection.summary && !current ? leafPemOf(material) : undefined;
      if (leaf) current = { pem: leaf, issuer: inspection.summary!.issuer };
      const event: InspectEvent = {
        target: target.id,
        service,
        files: inspection.files,
        live: inspection.live,
        summary: inspection.summary,
        chain: inspection.chain,
        defects: inspection.defects,
        status: statusOf(inspection.defects),
        action,
        providerIssued: inspection.providerIssued,
      };
      held.push(() => bus.emit('inspect', event));
      states.push({ service, installer, action, summary: inspection.summary, defects: inspection.defects });
    }
    // An inspection cut short by an interrupt says nothing reliable (its probes were aborted): none of it is reported.
    if (options.signal.aborted) return ['interrupted', [interruptedAction('the inspection')]];
    const repairs = switches.noServiceManagement ? false : states.some((s) => s.defects.some((d) => d.repair));
    const writes = interrupted || (!switches.noServiceManagement && (repairs || states.some((s) => s.action !== 'keep')));
    if (writes && !locked && !options.dryRun) return LOCK_NEEDED;
    for (const emit of held) emit();

    if (switches.noServiceManagement) return ['unmanaged', ['inspected only: disable_service_certificate_management is set']];
    const repaired = repairs ? await this.repair(target, states, options.dryRun) : [];
    const toReplace = states.filter((s) => s.action === 'replace');
    const toUpgrade = states.filter((s) => s.action === 'upgrade');
    if (toReplace.length === 0 && toUpgrade.length === 0) return [broken ? 'failed' : 'healthy', repaired];

    // 2. names: drop what the administrator excluded (compared as DNS does: case, trailing dot, IDN A-labels)
    const excluded = new Set(config.dcv.exclude.map(comparableName));
    let names = target.names.filter((name) => {
      if (!excluded.has(comparableName(name))) return true;
      bus.emit('validated', { target: target.id, name, ok: false, method: 'config', reason: 'excluded by the configuration (dcv.exclude)' });
      return false;
    });

    // A CA-signed certificate whose only fault is names it lacks stays while none of them can be validated: ordering
    // the same reduced certificate again on every run would only burn the CA's limits.
    // A name's local DCV verdict, once per run of the target: a later step (the next issuer, the order after the
    // uncovered-names check) reuses it rather than checking and printing it again.
    const verdicts: DcvVerdicts = new Map();
    const uncovered = options.dryRun ? null : uncoveredOnly([...toReplace, ...toUpgrade]);
    if (uncovered) {
      const kept = await this.keepUncoverable(target, chain, names, uncovered, options.signal, verdicts);
      if (options.signal.aborted) return ['interrupted', [...repaired, interruptedAction('local DCV')]];
      if (kept) return ['kept', [...repaired, kept]];
    }

    if (options.dryRun) {
      const planned = await this.planDryRun(target, chain, names, [...toReplace, ...toUpgrade], toReplace.length > 0, options.signal);
      return planned ? ['planned', [...repaired, ...planned]] : ['interrupted', [...repaired, interruptedAction('the dry run')]];
    }

    // 3. issue, down the chain
    const usable = chain.filter((issuer) => issuer.trusted || toReplace.length > 0);
    let csr: KeyAndCsr | undefined;
    let csrNames = '';
    const pending = new PendingOrderStore(join(config.paths.stateDir, 'pending'));
    // A CA path that failed for a reason that may pass (CA down, rate limit): --allow-retry schedules a re-run.
    let retryable: string | undefined;
    // The latest time a CA said to come back: a scheduled retry before it would only be refused again.
    let notBefore: Date | undefined;
    let pendingActions: string[] | undefined;
    for (const [index, issuer] of usable.entries()) {
      // An interrupt starts no new DCV or order; an order this target left pending stays saved for the next run.
      if (options.signal.aborted) return ['interrupted', [...repaired, ...(pendingActions ?? []), interruptedAction('the orders')]];
      const nextStep = nextStepAfter(usable, index, toReplace.length > 0);
      const ctx = { bus, dcv: this.deps.dcv, clock, signal: options.signal, stateDir: `${config.paths.stateDir}/issuers/${issuer.id}` };
      // An order a previous run left with the CA is resumed, not ordered again (same names only).
      let saved = issuer.trusted ? await loadPendingOrder(pending, target.id, issuer.id, (e) => this.fail(e)) : null;
      if (saved && saved.order.names.join() !== names.filter((n) => saved!.order.names.includes(n)).join()) saved = null;
      // Past the deadline, an order some names still hold is given up; the new one goes without them.
      const dropped =
        saved &&
        (await abandonIfOverdue({
          saved,
          issuer,
          ctx,
          store: pending,
          clock,
          afterHours: config.retry.abandonPendingAfterHours,
          primary: target.names[0]!,
          fail: (e) => this.fail(e),
        }));
      if (dropped) {
        saved = null;
        names = names.filter((n) => !dropped.includes(n));
      }
      let orderNames = saved ? saved.order.names : names;
      if (issuer.trusted) {
        const held = await this.rateLimitHold(target, issuer, orderNames, nextStep, toReplace.length === 0 || index + 1 < usable.length);
        if (held) {
          retryable = 'RATE_LIMITED';
          if (!notBefore || held > notBefore) notBefore = held;
          continue;
        }
      }
      if (!saved && issuer.precheck !== 'none') {
        const passed = await this.localDcv(
          target,
          names,
          issuer.precheck,
          options.signal,
          issuer.id,
          { addressPreference: issuer.addressPreference },
          undefined,
          verdicts,
        );
        if (options.signal.aborted) return ['interrupted', [...repaired, ...(pendingActions ?? []), interruptedAction('local DCV')]];
        if (passed === null || !passed.includes(target.names[0]!)) {
          this.fail({
            stage: 'dcv',
            target: target.id,
            issuer: issuer.id,
            code: 'DCV_PRIMARY_FAILED',
            message: passed === null ? 'local DCV could not run' : `the primary name ${target.names[0]} did not pass local DCV`,
            next: nextStep,
            severity: 'warning',
          });
          continue;
        }
        if (passed.length < names.length && config.dcv.requireAllNames) {
          this.fail({
            stage: 'dcv',
            target: target.id,
            issuer: issuer.id,
            code: 'DCV_NAMES_FAILED',
            message: `names failed local DCV and dcv.requireAllNames is set: ${names.filter((n) => !passed.includes(n)).join(', ')}`,
            next: nextStep,
            severity: 'warning',
          });
          continue;
        }
        orderNames = passed;
      }
      if (!saved && issuer.trusted) {
        const allowed = await caaPrecheck({
          bus,
          resolver: this.deps.resolver,
          issuer,
          target,
          names: orderNames,
          signal: options.signal,
          next: nextStep,
          requireAllNames: config.dcv.requireAllNames,
        });
        if (options.signal.aborted) return ['interrupted', [...repaired, ...(pendingActions ?? []), interruptedAction('the CAA check')]];
        if (allowed === null) continue;
        orderNames = allowed;
        const deferred = this.deferShrinking(target, issuer, [...toReplace, ...toUpgrade], orderNames);
        if (deferred) return ['kept', [...repaired, deferred]];
      }
      try {
        let result;
        if (saved) {
          csr = saved.csr;
          csrNames = orderNames.join();
          try {
            const { order, csr: savedCsr } = saved;
            result = await this.orderGate(issuer).through(() => issuer.resume(order, savedCsr, ctx));
          } catch (error) {
            const { code, message } = describeError(error);
            if (options.signal.aborted || !/INVALID|NOT_FOUND|DOES_NOT_EXIST|MALFORMED|UNAUTHORIZED/.test(code)) throw error;
            // The CA no longer has that order: forget it; the next run orders afresh after local DCV.
            await pending.clear(target.id, issuer.id);
            throw new CertsmithError(code, `the pending order ${saved.order.reference} cannot be resumed: ${message}`);
          }
        } else {
          // One key per run of a target, a new CSR only when local DCV changed the names.
          if (!csr || csrNames !== orderNames.join()) {
            csr = await this.deps.csrFactory.create(orderNames, config.key);
            csrNames = orderNames.join();
          }
          const replaces = current && issuer.issuerPatterns.some((p) => p.test(current!.issuer)) ? current.pem : undefined;
          const request = { target, names: orderNames, csr, ...(replaces ? { replaces } : {}) };
          result = await this.orderGate(issuer).through(() => issuer.issue(request, ctx));
        }
        if (result.status === 'pending') {
          await pending.save(result.order, csr);
          const event = pendingIssuedEvent(result.order, issuer.id, clock.now());
          bus.emit('issued', event);
          const actions = [`order ${result.order.reference} at "${issuer.id}" is still being processed; it is resumed by the next run`];
          if (event.heldBy) actions.push(`order held by: ${event.heldBy}`);
          if (options.allowRetry && !options.signal.aborted) actions.push(await this.scheduleRetry(target, options));
          // A service that must not stay as it is (no certificate, expired, ...) gets the self-signed stopgap
          // meanwhile; the order stays pending and replaces it when it completes.
          if (toReplace.length > 0 && usable.slice(index + 1).some((i) => !i.trusted)) {
            pendingActions = actions;
            continue;
          }
          return ['pending', actions];
        }
        if (issuer.trusted) await pending.clear(target.id, issuer.id);
        const material: NewMaterial = await this.materialOf(result.certificatePem, result.chainPem, csr, issuer);
        const problems = this.deps.inspector.verifyIssued(material, orderNames, clock.now());
        if (problems.length) {
          this.fail({
            stage: 'issue',
            target: target.id,
            issuer: issuer.id,
            code: 'ISSUED_MISMATCH',
            message: `refused the certificate from "${issuer.id}": ${problems.map((p) => p.message).join('; ')}`,
            next: nextStep,
            severity: 'error',
          });
          continue;
        }
        bus.emit('issued', {
          target: target.id,
          issuer: issuer.id,
          status: 'issued',
          summary: material.summary,
          chain: this.chainSummaries(material.chainPem),
          selfSigned: material.selfSigned,
          ...(result.profile ? { profile: result.profile } : {}),
        });
        // A certificate in hand is installed even when an interrupt came meanwhile: the install under way is finished
        // (or rolled back), never cut; only what would follow it is not started.
        const recipients = issuer.trusted ? [...toReplace, ...toUpgrade] : toReplace;
        const installed = await this.install(target, material, recipients);
        const notInstalled = recipients.filter((r) => !installed.includes(r.service)).map((r) => r.service);
        const what = material.selfSigned ? 'self-signed certificate' : `certificate from "${issuer.id}"`;
        const actions = [...(pendingActions ?? [])];
        if (installed.length) actions.push(`installed a ${what} for ${installed.join(', ')}${pendingActions ? ' until the pending order completes' : ''}`);
        if (notInstalled.length) actions.push(`not installed for ${notInstalled.join(', ')}: rolled back, the previous certificate stays (see the errors)`);
        if (retryable && options.allowRetry && !pendingActions && !options.signal.aborted) actions.push(await this.scheduleRetry(target, options, notBefore));
        return [notInstalled.length === 0 ? (pendingActions ? 'pending' : 'replaced') : 'failed', actions];
      } catch (error) {
        // An order cut short by an interrupt is not a CA failure: no fallback, no retry; a pending order stays saved.
        if (options.signal.aborted) return ['interrupted', [...repaired, ...(pendingActions ?? []), interruptedAction('the order')]];
        const { code, message } = describeError(error);
        if (issuer.trusted && /^(CA_UNREACHABLE|CA_UNAVAILABLE|TIMEOUT|ACME_RATE_LIMITED|ACME_SERVER_INTERNAL)$/.test(code)) retryable = code;
        const limit = issuer.trusted ? rateLimitOf(error) : null;
        if (limit) {
          // Recorded so that later runs do not ask before the CA said they may; while the certificate in place is
          // still valid (nothing to 'replace'), a rate limit is a warning: that certificate simply stays.
          const until = await this.recordRateLimit(target, issuer.id, code, limit, orderNames);
          if (until && (!notBefore || until.at > notBefore)) notBefore = until.at;
          this.fail({
            stage: 'issue',
            target: target.id,
            issuer: issuer.id,
            code,
            message: `${message}${until?.text ?? ''}`,
            next: nextStep,
            severity: toReplace.length === 0 || index + 1 < usable.length ? 'warning' : 'error',
            ...(until ? { until: isoSeconds(until.at) } : {}),
          });
          continue;
        }
        this.fail({
          stage: 'issue',
          target: target.id,
          issuer: issuer.id,
          code,
          message,
          next: nextStep,
          severity: index + 1 < usable.length ? 'warning' : 'error',
        });
      }
    }
    if (options.signal.aborted) return ['interrupted', [...repaired, ...(pendingActions ?? []), interruptedAction('the orders')]];
    if (pendingActions) return ['pending', [...pendingActions, 'the self-signed stopgap could not be installed either']];
    if (retryable && options.allowRetry) {
      const scheduled = await this.scheduleRetry(target, options, notBefore);
      if (toReplace.length === 0) return ['kept', ['no CA certificate could be had; the current certificate stays', scheduled]];
      return ['failed', ['no issuer produced a certificate', scheduled]];
    }
    if (toReplace.length === 0) return ['kept', ['no CA certificate could be had; the current certificate stays']];
    return ['failed', ['no issuer produced a certificate']];
  }

  /**
   * What a run would do, checked as far as reading allows: local DCV through each method's read-only pre-check (no
   * file, no record) and CAA. Says "would issue" only for the names that pass. Null when an interrupt cut it short.
   */
  private async planDryRun(
    target: Target,
    chain: Issuer[],
    names: string[],
    recipients: ServiceState[],
    mustReplace: boolean,
    signal: AbortSignal,
  ): Promise<string[] | null> {
    const { config, bus } = this.deps;
    const which = recipients.map((s) => s.service).join(', ');
    const ca = chain.find((i) => i.trusted);
    const actions: string[] = [];
    let orderNames = names;
    let refused: string | null = null;
    if (ca) {
      const next = nextStepAfter(chain, chain.indexOf(ca), mustReplace);
      if (ca.precheck !== 'none') {
        const passed = await this.localDcv(target, names, ca.precheck, signal, ca.id, { addressPreference: ca.addressPreference }, undefined, new Map(), true);
        if (signal.aborted) return null;
        const primary = target.names[0]!;
        if (passed === null) refused = `would not order from "${ca.id}": local DCV cannot run (see the errors); the run would ${next}`;
        else if (!passed.includes(primary))
          refused = `would not order from "${ca.id}": the primary name ${primary} fails local DCV (see the warnings); the run would ${next}`;
        else if (passed.length < names.length && config.dcv.requireAllNames)
          refused = `would not order from "${ca.id}": names fail local DCV and dcv.requireAllNames is set; the run would ${next}`;
        else if (passed.length < names.length)
          actions.push(`would leave out of the order, as they fail local DCV: ${names.filter((n) => !passed.includes(n)).join(', ')}`);
        if (passed) orderNames = passed;
      }
      if (!refused) {
        const allowed = await caaPrecheck({
          bus,
          resolver: this.deps.resolver,
          issuer: ca,
          target,
          names: orderNames,
          signal,
          next,
          requireAllNames: config.dcv.requireAllNames,
        });
        if (signal.aborted) return null;
        if (allowed === null) refused = `would not order from "${ca.id}": CAA forbids it (see the warnings); the run would ${next}`;
        else if (allowed.length < orderNames.length) {
          actions.push(`would leave out of the "${ca.id}" order, as CAA forbids them: ${orderNames.filter((n) => !allowed.includes(n)).join(', ')}`);
          orderNames = allowed;
        }
      }
    }
    // The first issuer that could serve: the CA when its checks pass, else the next in the chain (self-signed: every name).
    const fallback = refused ? chain.slice(chain.indexOf(ca!) + 1).find((i) => !i.trusted && mustReplace) : undefined;
    if (refused) actions.unshift(refused);
    if (fallback) recipients = recipients.filter((r) => r.action === 'replace');
    if (!refused || fallback) {
      const issuing = refused ? names : orderNames;
      actions.unshift(`would issue a certificate for ${issuing.join(', ')} (issuers: ${chain.map((i) => i.id).join(' → ')}) and install it for ${which}`);
      // What that would lead to, file by file.
      const selfSigned = refused ? true : !ca;
      for (const { service, installer } of recipients) {
        const plan = installer.plan?.({ selfSigned }, target);
        if (!plan) continue;
        actions.push(
          `would write for ${service}: ${plan.files.join(', ')}${plan.reload ? `; then reload with "${plan.reload.join(' ')}"` : '; no reload command'}`,
        );
      }
    }
    return actions;
  }

  /** The configured issuer ids, in order, minus CA issuers where a switch forbids them. */
  private issuerChain(target: Target): Issuer[] {
    const chain: Issuer[] = [];
    for (const id of this.deps.config.issuers) {
      const issuer = this.deps.issuers.find((i) => i.id === id);
      if (!issuer) continue; // checked by the composition root before the run
      if (issuer.trusted && target.kind === 'hostname' && this.deps.switches.noHostnameCertificate) continue;
      chain.push(issuer);
    }
    return chain;
  }

  /**
   * cPanel's local DCV: publish a random probe, check it for each name as the CA would, clean up. The names of a
   * target share the probe (token and content): a DCV method that serves them from one place (one docroot) writes
   * one file instead of one per name, and what is proved per name (its own answer, through its own address) is the same.
   * Returns the names that passed, or null when no DCV method of that family is loaded.
   */
  async localDcv(
    target: Target,
    names: string[],
    family: 'http' | 'dns',
    signal: AbortSignal,
    issuerId?: string,
    checkOptions?: DcvCheckOptions,
    onFailure = 'drop this name from the order',
    verdicts: DcvVerdicts = new Map(),
    readOnly = false,
  ): Promise<string[] | null> {
    const method = this.deps.dcv.find((m) => m.id.startsWith(family) && m.supports({ kind: 'probe', name: names[0]!, token: '', content: '' }));
    if (!method) {
      this.fail({
        stage: 'dcv',
        target: target.id,
        issuer: issuerId,
        code: 'NO_DCV_METHOD',
        message: `${issuerId ? `issuer "${issuerId}" needs` : 'local DCV needs'} ${family.toUpperCase()} validation but no such DCV plugin is loaded`,
        next: issuerId ? 'skip this issuer' : 'stop',
        severity: 'error',
      });
      return null;
    }
    if (readOnly && !method.precheck) {
      // A third-party method without a read-only check: a dry run cannot know, and says so once.
      this.fail({
        stage: 'dcv',
        target: target.id,
        issuer: issuerId,
        code: 'DCV_PRECHECK_UNAVAILABLE',
        message: `the DCV method "${method.id}" offers no read-only pre-check: the dry run does not check ${names.join(', ')}`,
        next: 'assume the names pass',
        severity: 'warning',
      });
      return names;
    }
    const passed: string[] = [];
    // Every name listens for the abort at once (resolver, HTTP client): one relay keeps Node's listener warning off the run's signal.
    const scope = new AbortController();
    setMaxListeners(0, scope.signal);
    const relay = () => scope.abort(signal.reason);
    if (signal.aborted) relay();
    else signal.addEventListener('abort', relay, { once: true });
    const probe = { token: randomBytes(16).toString('hex'), content: randomBytes(24).toString('base64url') };
    await Promise.all(
      names.map(async (name) => {
        const key = `${method.id}|${checkOptions?.addressPreference ?? ''}|${name}`;
        let ok = verdicts.get(key);
        if (ok === undefined) {
          ok = await this.checkName(target, method, { kind: 'probe', name, ...probe }, scope.signal, { checkOptions, onFailure, readOnly });
          // A verdict cut short by an interrupt is not one: it is neither kept nor reported.
          if (signal.aborted) return;
          verdicts.set(key, ok);
        }
        if (ok) passed.push(name);
      }),
    );
    signal.removeEventListener('abort', relay);
    return names.filter((n) => passed.includes(n));
  }

  /** One name's local DCV: published and checked, or (read-only) only checked; says the verdict on the bus. */
  private async checkName(
    target: Target,
    method: DcvMethod,
    challenge: Challenge & { kind: 'probe' },
    signal: AbortSignal,
    how: { checkOptions?: DcvCheckOptions; onFailure: string; readOnly: boolean },
  ): Promise<boolean> {
    const { bus } = this.deps;
    const name = challenge.name;
    let published;
    try {
      let verdict: NameVerdict;
      if (how.readOnly) verdict = await method.precheck!(name, target, signal, how.checkOptions);
      else {
        published = await method.publish(challenge, target, signal);
        bus.emit('dcv-created', { target: target.id, name, method: method.id, where: published.where, purpose: 'precheck' });
        verdict = await method.check(published, signal, how.checkOptions);
      }
      if (signal.aborted) return false;
      bus.emit('validated', {
        target: target.id,
        name,
        ok: verdict.ok,
        method: method.id,
        via: verdict.via,
        reason: verdict.reason,
        ...(verdict.code ? { code: verdict.code } : {}),
        ...(verdict.warnings?.length ? { warnings: verdict.warnings } : {}),
      });
      if (!verdict.ok)
        this.fail({
          stage: 'validate',
          target: target.id,
          name,
          code: verdict.code ?? 'DCV_FAILED',
          message: verdict.reason ?? 'failed',
          next: how.onFailure,
          severity: 'warning',
        });
      // A finding on a name that passed (the CA falls back to another address): said, and the name stays.
      for (const warning of verdict.ok ? (verdict.warnings ?? []) : []) {
        this.fail({
          stage: 'validate',
          target: target.id,
          name,
          code: warning.code,
          message: warning.message,
          next: 'keep the name in the order',
          severity: 'warning',
        });
      }
      return verdict.ok;
    } catch (error) {
      if (signal.aborted) return false;
      const { code, message } = describeError(error);
      bus.emit('validated', { target: target.id, name, ok: false, method: method.id, reason: message });
      this.fail({ stage: 'dcv', target: target.id, name, code, message, next: how.onFailure, severity: 'warning' });
      return false;
    } finally {
      if (published) await method.cleanup(published).catch(() => undefined);
    }
  }

  /** The issued chain as the event shows it; a block that is not a certificate is left out, not fatal. */
  private chainSummaries(chainPem: string[]) {
    return chainPem.flatMap((pem) => {
      try {
        return [this.deps.inspector.summarize(pem)];
      } catch {
        return [];
      }
    });
  }

  private async materialOf(certificatePem: string, chainPem: string[], csr: KeyAndCsr, issuer: Issuer): Promise<NewMaterial> {
    const summary = this.deps.inspector.summarize(certificatePem);
    return { certificatePem, chainPem, keyPem: csr.keyPem, summary, issuerId: issuer.id, selfSigned: !issuer.trusted };
  }

  /**
   * Installs the certificate for each recipient; returns the services that now serve it. It is not handed the run's
   * interrupt signal: an install under way is finished or rolled back within its own bounds (reload timeout, proof
   * time), never cut half-way. A service whose install was undone gets a `failed` event marked `rolledBack`.
   */
  private async install(target: Target, material: NewMaterial, recipients: ServiceState[]): Promise<ServiceId[]> {
    const installed: ServiceId[] = [];
    const settle = new AbortController().signal;
    for (const { service, installer } of recipients) {
      let receipt;
      try {
        receipt = await installer.install(target, material, { dryRun: false, signal: settle });
      } catch (error) {
        const { code, message } = describeError(error);
        this.fail({ stage: 'install', target: target.id, service, code, message, next: 'the previous certificate stays', severity: 'error', rolledBack: true });
        continue;
      }
      const proof = await installer.prove(receipt, AbortSignal.timeout(30_000));
      if (!proof.ok) {
        // The rollback restores, reloads and proves the previous certificate live; say which of that happened.
        let next = 'rolled back to the previous certificate';
        await installer.rollback(receipt).catch((error: unknown) => {
          const { code, message } = describeError(error);
          this.fail({ stage: 'install', target: target.id, service, code, message: `rollback failed: ${message}`, next: 'fix by hand', severity: 'error' });
          next = 'the rollback failed too (see the previous error)';
        });
        this.fail({
          stage: 'install',
          target: target.id,
          service,
          code: 'INSTALL_NOT_LIVE',
          message: `the new certificate is not served after reload (${proof.reason ?? 'no detail'})`,
          next,
          severity: 'error',
          rolledBack: true,
        });
        continue;
      }
      installed.push(service);
      this.deps.bus.emit('installed', {
        target: target.id,
        service,
        files: receipt.files,
        reloaded: receipt.reloaded,
        live: proof.observations,
        dryRun: receipt.dryRun,
      });
    }
    return installed;
  }

  private async scheduleRetry(target: Target, options: RunOptions, notBefore?: Date): Promise<string> {
    const { scheduler, config } = this.deps;
    if (!scheduler) {
      this.fail({
        stage: 'schedule',
        target: target.id,
        code: 'NO_SCHEDULER',
        message: '--allow-retry needs a scheduler plugin (e.g. @certsmith/scheduler-at)',
        next: 'the next scheduled run resumes the order',
        severity: 'warning',
      });
      return 'no retry scheduled: no scheduler plugin';
    }
    // The config file is in the tag: two certsmith setups on one host (or parallel tests) keep apart.
    const tag = `certsmith-retry:${target.id}:${config.file}`;
    try {
      const queued = (await scheduler.list()).find((job) => job.tag === tag);
      if (queued) return `retry already scheduled as job ${queued.id} at ${queued.runAt}`;
      const untilLimit = notBefore ? Math.ceil((notBefore.getTime() - this.deps.clock.now().getTime()) / 60_000) : 0;
      const ref = await scheduler.schedule({ command: options.retryCommand, delayMinutes: Math.max(config.retry.delayMinutes, untilLimit), tag });
      return `retry scheduled as job ${ref.id} at ${ref.runAt}`;
    } catch (error) {
      const { code, message } = describeError(error);
      this.fail({ stage: 'schedule', target: target.id, code, message, next: 'the next scheduled run resumes the order', severity: 'warning' });
      return `no retry scheduled: ${message}`;
    }
  }

  /** Narrows what the inspection found too open (a key readable by others) in place; returns what was done, in words. */
  private async repair(target: Target, states: ServiceState[], dryRun: boolean): Promise<string[]> {
    const done: string[] = [];
    for (const { service, installer, defects } of states) {
      for (const { repair } of defects) {
        if (!repair) continue;
        const mode = `0${repair.mode.toString(8)}`;
        if (dryRun) {
          done.push(`would narrow ${repair.path} to mode ${mode}`);
          continue;
        }
        try {
          if (!installer.restrictMode) throw new CertsmithError('REPAIR_UNSUPPORTED', `the installer of "${service}" cannot change file modes`);
          await installer.restrictMode(repair.path, repair.mode);
          done.push(`narrowed ${repair.path} to mode ${mode}`);
        } catch (error) {
          const { code, message } = describeError(error);
          this.fail({
            stage: 'install',
            target: target.id,
            service,
            code,
            message,
            next: `set the mode of ${repair.path} to ${mode} by hand`,
            severity: 'error',
          });
        }
      }
    }
    return done;
  }

  /**
   * AutoSSL's rule for a certificate that lacks some of the target's names: it stays while none of them passes local
   * DCV (each failure is said, with its reason, on every run); returns the action in words, or null to order now.
   */
  private async keepUncoverable(
    target: Target,
    chain: Issuer[],
    names: string[],
    uncovered: string[],
    signal: AbortSignal,
    verdicts: DcvVerdicts,
  ): Promise<string | null> {
    const candidates = uncovered.filter((name) => names.includes(name));
    const ca = chain.find((issuer) => issuer.trusted);
    if (!ca) return null;
    const keep = `kept the certificate: it covers every name that can be validated now; not covered: ${uncovered.join(', ')}`;
    if (candidates.length === 0) return `${keep} (excluded by dcv.exclude)`;
    if (ca.precheck === 'none') return null;
    const passed = await this.localDcv(
      target,
      candidates,
      ca.precheck,
      signal,
      ca.id,
      { addressPreference: ca.addressPreference },
      'keep the current certificate; order again once the name passes',
      verdicts,
    );
    if (passed === null || passed.length > 0) return null;
    return `${keep} (they fail local DCV, see the warnings); a new order is placed once one of them passes, or when the certificate is due`;
  }

  /**
   * A certificate is not replaced by one that covers fewer of its names unless it is defective otherwise or in its last
   * days: returns the action in words when the order must wait, after saying why; null to order now.
   */
  private deferShrinking(target: Target, issuer: Issuer, recipients: ServiceState[], orderNames: string[]): string | null {
    const lost = namesLost(recipients, target.names, orderNames);
    if (lost.length === 0) return null;
    const shrink = mayShrink(recipients, this.deps.clock.now(), this.deps.config.inspection.otherThresholdDays);
    if (shrink.allowed) return null;
    const until = isoSeconds(shrink.until!);
    this.fail({
      stage: 'issue',
      target: target.id,
      issuer: issuer.id,
      code: 'ORDER_WOULD_DROP_NAMES',
      message: `not ordering from "${issuer.id}" yet: the new certificate would not cover ${lost.join(', ')}, which the current one covers; it is renewed without them from ${until} if they still fail`,
      next: 'keep the current certificate',
      severity: 'warning',
    });
    return `kept the certificate: a renewal now would drop ${lost.join(', ')}; renewed without them from ${until} if they still fail`;
  }

  /**
   * Whether a rate limit the CA imposed earlier still holds this issuer back for these names (or for anything, when
   * it was account-wide): then it is not asked, and a line says until when. Returns that time, or null.
   * A ledger file edited into nonsense is reported once, naming the file, and the run goes on without it.
   */
  private async rateLimitHold(target: Target, issuer: Issuer, names: string[], next: string, warning: boolean): Promise<Date | null> {
    const hold = await this.rateLimits.hold(issuer.id, names).catch(() => null);
    for (const problem of this.rateLimits.takeProblems()) {
      this.fail({
        stage: 'issue',
        target: target.id,
        issuer: issuer.id,
        code: 'RATE_LIMIT_LEDGER_INVALID',
        message: problem,
        next: 'go on as if no rate limit were recorded',
        severity: 'warning',
      });
    }
    if (!hold) return null;
    const what = hold.scope === 'account' ? 'anything (account-wide limit)' : hold.names.join(', ');
    const why = `${hold.entry.kind}${hold.entry.detail ? `: ${hold.entry.detail}` : ''}`;
    this.fail({
      stage: 'issue',
      target: target.id,
      issuer: issuer.id,
      code: 'RATE_LIMITED',
      message: `not asking "${issuer.id}" for ${what} until ${isoSeconds(hold.until)} (${why})`,
      next,
      severity: warning ? 'warning' : 'error',
      until: isoSeconds(hold.until),
    });
    return hold.until;
  }

  /** Writes a new rate limit to the ledger; returns when the run asks again, in words for the message. */
  private async recordRateLimit(
    target: Target,
    issuerId: string,
    code: string,
    limit: NonNullable<ReturnType<typeof rateLimitOf>>,
    orderNames: string[],
  ): Promise<{ at: Date; text: string } | null> {
    try {
      const { until, note, names } = await this.rateLimits.record(issuerId, code, limit, orderNames);
      const what = limit.scope === 'account' ? 'anything (account-wide limit)' : names.join(', ');
      return { at: until, text: `; not asking "${issuerId}" for ${what} again until ${isoSeconds(until)}${note ? ` (${note})` : ''}` };
    } catch (error) {
      const { code: failure, message } = describeError(error);
      this.fail({
        stage: 'issue',
        target: target.id,
        issuer: issuerId,
        code: failure,
        message: `the rate limit could not be recorded in ${this.rateLimits.file}: ${message}`,
        next: 'the next run may ask the CA again',
        severity: 'warning',
      });
      return null;
    }
  }

  private fail(event: FailedEvent): void {
    this.deps.bus.emit('failed', event);
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

export { comparableName };

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

/** What the run does when the issuer at `index` gives nothing: the next one, the self-signed end, or keep. */
function nextStepAfter(issuers: readonly Issuer[], index: number, mustReplace: boolean): string {
  const following = issuers[index + 1];
  return following ? `try issuer "${following.id}"` : mustReplace ? 'no issuer left' : 'keep the current certificate';
}
