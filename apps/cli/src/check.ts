import { constants as osConstants } from 'node:os';
import {
  CertsmithError,
  EventLog,
  RunLock,
  RunReportCollector,
  UsageError,
  allTargets,
  describeError,
  readSwitches,
  recordLastRun,
  selectTargets,
  type Notifier,
  type RunReport,
} from '@certsmith/core';
import { reportUsageError } from './command-line.js';
import { checkDirectoriesReadOnly, compose, pipelineOf, prepareDirectories, type Overrides } from './compose.js';
import { HumanLog } from './human-log.js';
import { publishStatus } from './status-sinks.js';

export interface CheckOptions {
  configFile: string;
  verbose: boolean;
  json: boolean;
  dryRun: boolean;
  allowRetry: boolean;
  /** --target: ids or names of the targets to check; empty for all. */
  targets: string[];
  version: string;
  /** node and the script, to build the retry job's command line. */
  invokedAs: string[];
  overrides?: Overrides;
}

/** `certsmith check`: one run over the server's targets. Returns the exit code. */
export async function runCheck(options: CheckOptions): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let lock: RunLock | undefined;
  let eventLog: EventLog | undefined;
  // SIGINT/SIGTERM stop the run: nothing new starts, the install under way finishes or rolls back, the locks are
  // released. The handlers stay for the whole run, so a second Ctrl-C never falls through to Node's default (a kill
  // in the middle of an install).
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  let onInterrupt = (_signal: NodeJS.Signals) => undefined as void;
  const stop = (signal: NodeJS.Signals) => {
    if (interrupted) {
      if (!options.json) out(`${signal} again: still finishing what is under way, then stopping.`);
      return;
    }
    interrupted = signal;
    controller.abort(new CertsmithError('INTERRUPTED', `interrupted by ${signal}`));
    onInterrupt(signal);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const composition = await compose(options.configFile, options.overrides);
    const { config, bus, clock, contributions } = composition;
    if (options.dryRun) await checkDirectoriesReadOnly(config);
    else await prepareDirectories(config);
    const targets = selectTargets(allTargets(config), options.targets);
    // The run lock is for "one scheduled run at a time"; a run for chosen targets relies on their own locks.
    if (!options.dryRun && options.targets.length === 0) lock = await RunLock.acquire(config.paths.stateDir);
    const switches = await readSwitches(config.paths.stateDir);
    // A dry run writes nothing, its log included.
    if (!options.dryRun) {
      try {
        eventLog = await EventLog.open({ dir: config.paths.logDir, keepDays: config.log.keepDays, clock });
      } catch (error) {
        throw new UsageError(
          'DIR_INVALID',
          `${config.file}: $.paths.logDir: cannot write the event log in ${config.paths.logDir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
      eventLog.attach(bus);
      eventLog.record('run-started', {
        version: options.version,
        hostname: config.hostname,
        profile: config.profile,
        config: config.file,
        plugins: composition.plugins.map((p) => ({ name: p.name, version: p.version })),
        switches,
      });
    }
    onInterrupt = (signal) => {
      if (!options.json) out(`Interrupted (${signal}): starting nothing new; finishing or rolling back the install under way.`);
      eventLog?.record('interrupted', { signal });
    };
    if (interrupted) onInterrupt(interrupted);

    const report = new RunReportCollector(bus);
    const humanLog = options.json
      ? undefined
      : new HumanLog(bus, out, {
          verbose: options.verbose,
          now: clock.now(),
          names: new Map(targets.map((t) => [t.id, t.names])),
          stream: targets.length === 1,
        });
    humanLog?.attach();
    for (const notifier of contributions.notifiers) notifier.listen(bus);
    for (const sink of contributions.statusSinks) sink.listen?.(bus);

    const startedAt = clock.now();
    if (!options.json) {
      out(`certsmith ${options.version}: checking SSL certificates on ${config.hostname} (${config.profile} profile${options.dryRun ? ', dry run' : ''})`);
      if (switches.noServiceManagement) out('Note: disable_service_certificate_management is set: certificates are inspected, not replaced.');
      if (switches.noHostnameCertificate) out('Note: disable_auto_hostname_certificate is set: no CA-signed hostname certificate is ordered.');
    }
    const pipeline = pipelineOf(composition, {
      switches,
      report,
      scheduler: contributions.schedulers[0],
      resolver: composition.resolver,
      fleet: contributions.fleet[0],
    });
    await pipeline.run(targets, {
      dryRun: options.dryRun,
      allowRetry: options.allowRetry,
      retryCommand: [...options.invokedAs, 'check', '--no-retry', '--config', config.file],
      concurrency: config.concurrency,
      onTargetDone: (id) => humanLog?.flush(id),
      signal: controller.signal,
    });
    humanLog?.flushAll();
    const result: RunReport = report.finish({
      hostname: config.hostname,
      startedAt,
      finishedAt: clock.now(),
      dryRun: options.dryRun,
      ...(interrupted ? { interrupted } : {}),
    });
    if (eventLog) result.logFile = eventLog.file;

    const notifications: { notifier: string; delivered: boolean; detail: string }[] = [];
    if (!options.dryRun) {
      for (const notifier of contributions.notifiers) {
        const delivery = await notifier.deliver(result).catch((error: unknown): Awaited<ReturnType<Notifier['deliver']>> => {
          // The contract says deliver() never throws; a third-party notifier that does still cannot fail the run.
          const { code, message } = describeError(error);
          return {
            delivered: false,
            detail: `failed: ${message}`,
            failures: [{ stage: 'notify', target: '(run)', code, message, next: 'no notice from this notifier this run', severity: 'warning' }],
          };
        });
        // Mail trouble is logged and shown, never turned into the run's exit code.
        for (const failure of delivery.failures ?? []) bus.emit('failed', failure);
        notifications.push({ notifier: notifier.id, delivered: delivery.delivered, detail: delivery.detail });
        eventLog?.record('notified', notifications.at(-1));
        if (!options.json) out(`Notification (${notifier.id}): ${delivery.detail}`);
      }
    }
    if (options.json)
      out(
        JSON.stringify(
          { version: options.version, plugins: composition.plugins.map((p) => ({ name: p.name, version: p.version })), ...result, notifications },
          null,
          2,
        ),
      );
    else printSummary(result, out);
    const exitCode = interrupted ? interruptedExitCode(interrupted) : result.exitCode;
    await recordLastRun(config, result).catch((error: unknown) => process.stderr.write(`certsmith: ${describeError(error).message}\n`));
    // The status after this run (its last-run record included) for the sinks; --json keeps stdout to its document.
    if (!options.dryRun) await publishStatus(composition, result, options.json ? (line) => process.stderr.write(`${line}\n`) : out);
    eventLog?.record('run-finished', {
      exitCode,
      ...(interrupted ? { interrupted } : {}),
      targets: result.targets.map((t) => ({
        target: t.target,
        result: t.result,
        installed: t.services.filter((s) => s.installed && !s.installed.dryRun).map((s) => s.service),
        rolledBack: t.services.filter((s) => s.rolledBack).map((s) => s.service),
        actions: t.actions,
      })),
    });
    return exitCode;
  } catch (error) {
    // Interrupted before the run had a report (reading the config, taking the lock): still the signal's exit code.
    if (interrupted) {
      process.stderr.write(`certsmith: interrupted (${interrupted})\n`);
      return interruptedExitCode(interrupted);
    }
    return reportUsageError(error);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    eventLog?.close();
    await lock?.release();
  }
}

function printSummary(report: RunReport, out: (line: string) => void): void {
  out('');
  out('Summary:');
  for (const target of report.targets) {
    out(`  ${target.target} (${target.names.join(', ')}): ${target.result}`);
    for (const service of target.services) out(`    ${service.service}: ${serviceSummary(service)}`);
    for (const failure of target.failures)
      out(`    ${failure.severity}: ${failure.code} (${failure.stage}${failure.issuer ? `, issuer ${failure.issuer}` : ''}) → ${failure.next}`);
    for (const action of target.actions) out(`    ${action}`);
  }
  if (report.logFile) out(`Event log: ${report.logFile}`);
  if (report.interrupted) out(`Interrupted (${report.interrupted}): exit code ${interruptedExitCode(report.interrupted)}.`);
  else out(report.exitCode === 0 ? 'Done.' : 'Done, with failures (exit code 1).');
}

/** The shell's convention: 128 + the signal's number (SIGINT 130, SIGTERM 143). */
function interruptedExitCode(signal: string): number {
  return 128 + (osConstants.signals[signal as NodeJS.Signals] ?? 0);
}

/** One line per service: what inspection found and what the run did about it. */
function serviceSummary(service: RunReport['targets'][number]['services'][number]): string {
  const parts: string[] = [service.inspect ? service.inspect.status : 'not inspected'];
  const defects = (service.inspect?.defects ?? []).filter((d) => d.severity !== 'info').map((d) => d.code);
  if (defects.length) parts[0] += ` (${defects.join(', ')})`;
  if (service.installed)
    parts.push(
      service.installed.dryRun ? 'would install a new certificate' : `new certificate installed${service.installed.reloaded ? ', service reloaded' : ''}`,
    );
  else if (service.rolledBack) parts.push('new certificate not installed (rolled back; the previous certificate stays)');
  for (const failure of service.failures) parts.push(`${failure.code} → ${failure.next}`);
  return parts.join('; ');
}
