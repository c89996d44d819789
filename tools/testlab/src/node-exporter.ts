import { freePort } from './ocsp.js';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, portOpen } from './process.js';

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

export interface NodeExporterOptions {
  /** The directory whose `*.prom` files it serves (`--collector.textfile.directory`). */
  textfileDir: string;
  /** Where it listens; default 127.0.0.1. */
  address?: string;
}

export interface NodeExporter {
  /** Its metrics page, e.g. `http://127.0.0.1:40123/metrics`. */
  url: string;
  port: number;
  /** One scrape, as Prometheus would make it: the page's text, or a LabError with the status and body. */
  scrape(): Promise<string>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Debian's Prometheus node exporter with its textfile collector only (README.md#node-exporter-and-promtool): what a
 * server's Prometheus scrapes for the files certsmith writes. Foreground; no state of its own.
 */
export async function startNodeExporter(options: NodeExporterOptions): Promise<NodeExporter> {
  await ensurePackages({ [NODE_EXPORTER]: 'prometheus-node-exporter' });
  const address = options.address ?? '127.0.0.1';
  const port = await freePort();
  const server = new ServerProcess(`node_exporter on ${address}:${port}`, NODE_EXPORTER, [
    `--web.listen-address=${address}:${port}`,
    `--collector.textfile.directory=${options.textfileDir}`,
    '--collector.disable-defaults',
    '--collector.textfile',
  ]);
  try {
    await server.waitUntil(() => portOpen(address, port), 20_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const url = `http://${address}:${port}/metrics`;
  return {
    url,
    port,
    async scrape() {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const body = await response.text();
      if (!response.ok) throw new LabError(`${url} answered ${response.status}:\n${body}\n${server.log}`);
      return body;
    },
    stop: () => server.stop(),
    log: () => server.log,
  };
}
