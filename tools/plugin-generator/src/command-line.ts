import { resolve } from 'node:path';
import { PLUGIN_KINDS, isPluginKind, nameProblem } from './plugin-name.js';
import { formatPlan } from './format.js';
import { planPlugin } from './plan.js';
import { GeneratorRefusal, writePlugin } from './write-plugin.js';

export const USAGE = `usage: npm run new-plugin -- --kind <${PLUGIN_KINDS.join('|')}> --name <name> [--root <workspace>]`;

interface Request {
  kind: string;
  name: string;
  root: string;
}

/** The request a command line makes; a GeneratorRefusal for anything else. */
export function parseCommandLine(args: string[], defaultRoot: string): Request {
  const given = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!['--kind', '--name', '--root'].includes(flag)) throw new GeneratorRefusal(`unknown argument "${args[i]}"; ${USAGE}`);
    const value = inline ?? args[++i];
    if (value === undefined || value === '') throw new GeneratorRefusal(`${flag} needs a value; ${USAGE}`);
    if (given.has(flag)) throw new GeneratorRefusal(`${flag} is given twice`);
    given.set(flag, value);
  }
  const kind = given.get('--kind');
  const name = given.get('--name');
  if (kind === undefined || name === undefined) throw new GeneratorRefusal(`--kind and --name are both needed; ${USAGE}`);
  return { kind, name, root: resolve(given.get('--root') ?? defaultRoot) };
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** The generator's command: 0 when the plugin was written, 2 (and one line, and nothing written) for bad input. */
export async function runGenerator(args: string[], defaultRoot: string, output: Output): Promise<number> {
  try {
    const { kind, name, root } = parseCommandLine(args, defaultRoot);
    if (!isPluginKind(kind)) throw new GeneratorRefusal(`unknown kind "${kind}": one of ${PLUGIN_KINDS.join(', ')}`);
    const problem = nameProblem(kind, name);
    if (problem) throw new GeneratorRefusal(problem);
    const plan = await formatPlan(root, planPlugin(kind, name));
    await writePlugin(root, plan);
    for (const file of plan.files) output.out(`created ${plan.folder}/${file.path}`);
    output.out(`next: npm install (links ${plan.names.packageName} into the workspace and the lock file), then`);
    output.out(`      npx nx run-many -t build lint typecheck test -p ${plan.names.packageName}`);
    return 0;
  } catch (error) {
    if (!(error instanceof GeneratorRefusal)) throw error;
    output.err(`new-plugin: ${error.message}`);
    return 2;
  }
}
