import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import type { PluginPlan } from './plan.js';

/**
 * The plan in the workspace's own style: a name's length moves line breaks, so the templates cannot hold the final
 * layout themselves, and `npm test` checks every file with prettier.
 */
export async function formatPlan(root: string, plan: PluginPlan): Promise<PluginPlan> {
  const files = await Promise.all(
    plan.files.map(async (file) => {
      const filepath = join(root, plan.folder, file.path);
      const options = (await resolveConfig(filepath)) ?? {};
      return { ...file, content: await format(file.content, { ...options, filepath }) };
    }),
  );
  return { ...plan, files };
}
