import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PluginPlan } from './plan.js';

/** A reason to write nothing, said in one line by the command. */
export class GeneratorRefusal extends Error {}

/**
 * Writes a planned plugin under `root`. The plugin's folder is created exclusively, so that an existing plugin is never
 * overwritten; a write that fails half-way removes the folder again, so that nothing half-made is left.
 */
export async function writePlugin(root: string, plan: PluginPlan): Promise<string> {
  const folder = join(root, plan.folder);
  try {
    await mkdir(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new GeneratorRefusal(`${plan.folder} already exists: choose another name, or remove it first`);
    if (code === 'ENOENT') throw new GeneratorRefusal(`${dirname(folder)} does not exist: is ${root} a certsmith workspace?`);
    throw new GeneratorRefusal(`${folder}: ${(error as Error).message}`);
  }
  try {
    for (const file of plan.files) {
      await mkdir(dirname(join(folder, file.path)), { recursive: true });
      await writeFile(join(folder, file.path), file.content, { flag: 'wx' });
    }
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  return folder;
}
