import { CertsmithError, UsageError, describeError } from '@certsmith/core';
import { reportUsageError, usageError } from './command-line.js';
import { compose, type Overrides } from './compose.js';
import { fleetLines, fleetReport } from './fleet-view.js';

export interface FleetOptions {
  configFile: string;
  json: boolean;
  /** The sub-command: only `status` so far. */
  action: string | undefined;
  overrides?: Overrides;
}

/** How long `fleet status` waits for the fleet's store. */
const VIEW_TIMEOUT_MS = 10_000;

/**
 * `certsmith fleet status`: every host's last report and the fleet's rate limits, through the configured fleet plugin,
 * worst first. Exit 0; 1 when the fleet cannot be reached; 2 for a usage or config error (no fleet plugin).
 */
export async function runFleet(options: FleetOptions): Promise<number> {
  try {
    if (options.action !== 'status')
      throw usageError(`fleet${options.action ? ` ${options.action}` : ''}: unknown or missing action (fleet status)`, 'certsmith --help');
    const composition = await compose(options.configFile, options.overrides);
    const fleet = composition.contributions.fleet[0];
    if (!fleet)
      throw new UsageError(
        'CONFIG_INVALID',
        `${composition.config.file}: $.plugins: no fleet plugin is configured (add @certsmith/fleet-nats with its "servers")`,
      );
    const view = await fleet.view(AbortSignal.timeout(VIEW_TIMEOUT_MS));
    const report = fleetReport(view, composition.clock.now());
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${fleetLines(report).join('\n')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CertsmithError && !(error instanceof UsageError)) {
      process.stderr.write(`certsmith: ${describeError(error).message}\n`);
      return 1;
    }
    return reportUsageError(error);
  }
}
