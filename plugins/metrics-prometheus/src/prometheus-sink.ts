import { describeError, writeFileAtomic, type Bus, type RunReport, type StatusReport, type StatusSink } from '@certsmith/core';
import { DcvFailureTally } from './dcv-failure-tally.js';
import { metricsText } from './exposition.js';
import type { PrometheusSettings } from './options.js';

/**
 * Writes the status and the run as a metrics file for node_exporter's textfile collector, replaced atomically so that
 * a scrape never reads half a file. World-readable: node_exporter runs as its own user.
 */
export class PrometheusSink implements StatusSink {
  readonly id = 'prometheus';
  private readonly tally = new DcvFailureTally();

  constructor(readonly settings: PrometheusSettings) {}

  listen(bus: Bus): void {
    this.tally.listen(bus);
  }

  async publish(status: StatusReport, report: RunReport, _signal: AbortSignal): Promise<{ detail: string; warnings?: string[] }> {
    const { file, prefix } = this.settings;
    try {
      const text = await metricsText(prefix, status, report, this.tally.take());
      await writeFileAtomic(file, text, { mode: 0o644 });
      return { detail: `metrics written to ${file}` };
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? describeError(error).message;
      return { detail: 'metrics not written', warnings: [`${file}: cannot be written (${reason}); node_exporter keeps the previous one, if any`] };
    }
  }
}
