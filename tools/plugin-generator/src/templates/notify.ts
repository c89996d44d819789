import { indexSource, type KindTemplate } from './kind-template.js';

// Appends one line per run to a file: the smallest notifier that delivers something, so that the plugin works from its
// first build; it shows both halves of the contract (listening during the run, delivering the report once).
export const notifyTemplate: KindTemplate = {
  description: ({ id }) => `The ${id} notifier (notifier:${id})`,
  dependencies: ['@certsmith/core'],
  devDependencies: [],
  index: ({ id, packageName, className, fileName }) =>
    indexSource({
      summary: `The ${id} notifier: appends one line per run to a file.`,
      imports: `import { ${className} } from './${fileName}.js';`,
      exports: `export { ${className} } from './${fileName}.js';`,
      packageName,
      schema: `required: ['file'],
    properties: { file: { type: 'string', pattern: '^/', description: 'The file each run appends its line to (absolute).' } },`,
      bind: `bind(TOKENS.Notifier).toConstantValue(new ${className}(options.file as string));`,
    }),
  implementation: ({ id, className }) => `import { appendFile } from 'node:fs/promises';
import type { Bus, Notifier, RunReport } from '@certsmith/core';

/**
 * Tells a person what a run did, once per run: it listens while the run goes, and the composition root hands it the
 * finished report. deliver() never throws, so that a notifier's trouble never changes the run's exit code.
 */
export class ${className} implements Notifier {
  readonly id = '${id}';
  private warnings = 0;

  constructor(private readonly file: string) {}

  listen(bus: Bus): void {
    bus.on('failed', (event) => {
      if (event.severity === 'warning') this.warnings += 1;
    });
  }

  async deliver(report: RunReport): Promise<{ delivered: boolean; detail: string }> {
    const failed = report.targets.filter((target) => target.result === 'failed').map((target) => target.target);
    const line = \`\${report.finishedAt} \${report.hostname}: \${report.targets.length} target(s), failed: \${failed.join(' ') || 'none'}, \${this.warnings} warning(s)\\n\`;
    try {
      await appendFile(this.file, line, { mode: 0o600 });
      return { delivered: true, detail: \`appended to \${this.file}\` };
    } catch (error) {
      return { delivered: false, detail: \`\${this.file}: \${(error as Error).message}\` };
    }
  }
}
`,
  test: ({ id, packageName, fileName }) => `import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, TOKENS, completeConfig, contributionsOf, createBus, type Bus, type RunReport, type TargetReport } from '@certsmith/core';
import { manifest } from './index.js';

let dir: string;

/** The notifier the plugin contributes for these options, set up as the CLI's composition root sets it up. */
async function contributedNotifier(options: Record<string, unknown>, bus: Bus) {
  const config = completeConfig({ hostname: 'host.example.test' }, '/etc/certsmith/config.json');
  const root = new Container();
  root.bind(TOKENS.Config).toConstantValue(config);
  root.bind(TOKENS.Bus).toConstantValue(bus);
  const { notifiers } = await contributionsOf(manifest, options, config, root, bus);
  expect(notifiers.map((notifier) => notifier.id)).toEqual(['${id}']);
  return notifiers[0]!;
}

const target = (id: string, result: TargetReport['result']): TargetReport => ({ target: id, names: [], result, services: [], validations: [], failures: [], actions: [] });
const report = (targets: TargetReport[]): RunReport => ({
  hostname: 'host.example.test',
  startedAt: '2026-01-15T03:00:00.000Z',
  finishedAt: '2026-01-15T03:00:09.000Z',
  dryRun: false,
  targets,
  exitCode: targets.some((t) => t.result === 'failed') ? 1 : 0,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), '${id}-notify-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('${packageName} (${fileName})', () => {
  it('appends one line per run: its failed targets and the warnings it heard', async () => {
    const bus = createBus();
    const file = join(dir, 'runs.log');
    const notifier = await contributedNotifier({ file }, bus);
    notifier.listen(bus);
    bus.emit('failed', { stage: 'install', target: 'shop', code: 'RELOAD_FAILED', message: 'x', next: 'keep current certificate', severity: 'warning' });
    expect(await notifier.deliver(report([target('hostname', 'healthy'), target('shop', 'failed')]))).toEqual({ delivered: true, detail: \`appended to \${file}\` });
    const nextRun = await contributedNotifier({ file }, createBus());
    expect(await nextRun.deliver(report([target('hostname', 'healthy')]))).toMatchObject({ delivered: true });
    expect(await readFile(file, 'utf8')).toBe(
      '2026-01-15T03:00:09.000Z host.example.test: 2 target(s), failed: shop, 1 warning(s)\\n' +
        '2026-01-15T03:00:09.000Z host.example.test: 1 target(s), failed: none, 0 warning(s)\\n',
    );
  });

  it('reports trouble instead of throwing', async () => {
    const bus = createBus();
    const notifier = await contributedNotifier({ file: join(dir, 'missing', 'runs.log') }, bus);
    expect(await notifier.deliver(report([]))).toMatchObject({ delivered: false, detail: expect.stringContaining('ENOENT') });
  });
});
`,
};
