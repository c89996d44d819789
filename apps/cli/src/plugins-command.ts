import { reportUsageError } from './command-line.js';
import { compose, type Overrides } from './compose.js';

/** `certsmith plugins`: what the configuration loads, and what each plugin contributes. */
export async function runPlugins(options: { configFile: string; json: boolean; verbose?: boolean; overrides?: Overrides }): Promise<number> {
  try {
    const { plugins } = await compose(options.configFile, options.overrides);
    const rows = plugins.map((p) => ({
      name: p.name,
      version: p.version,
      from: p.spec,
      contributes: [
        ...p.contributes.issuers.map((i) => `issuer:${i.id}`),
        ...p.contributes.installers.map((i) => `installer:${i.service}`),
        ...p.contributes.dcv.map((d) => `dcv:${d.id}`),
        ...p.contributes.notifiers.map((n) => `notifier:${n.id}`),
        ...p.contributes.schedulers.map((s) => `scheduler:${s.id}`),
        ...p.contributes.statusSinks.map((s) => `status:${s.id}`),
        ...p.contributes.fleet.map((f) => `fleet:${f.id}`),
      ],
      reloads: Object.fromEntries(p.contributes.installers.flatMap((i) => (i.reloadChoice ? [[i.service, i.reloadChoice]] : []))),
    }));
    if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else
      for (const row of rows) {
        process.stdout.write(`${row.name} ${row.version}  ${row.contributes.join(' ') || '(listens only)'}  [${row.from}]\n`);
        // --verbose: how each installed service is reloaded, and why that command.
        if (options.verbose)
          for (const [service, reload] of Object.entries(row.reloads))
            process.stdout.write(`  ${service} reload: ${reload.command?.join(' ') ?? '(none)'}  (${reload.why})\n`);
      }
    return 0;
  } catch (error) {
    return reportUsageError(error);
  }
}
