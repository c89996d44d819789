import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under a directory with its mtime: two equal snapshots prove a run wrote nothing there. */
export async function fileTimes(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(path, (await stat(path)).mtimeMs);
    }
  };
  await walk(root);
  return out;
}
