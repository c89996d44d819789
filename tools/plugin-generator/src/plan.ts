import { type PluginKind, pluginNames, type PluginNames } from './plugin-name.js';
import { dcvTemplate } from './templates/dcv.js';
import { installerTemplate } from './templates/installer.js';
import { issuerTemplate } from './templates/issuer.js';
import type { KindTemplate } from './templates/kind-template.js';
import { notifyTemplate } from './templates/notify.js';
import { packageFiles, type PlannedFile } from './templates/package-files.js';

const TEMPLATES: Record<PluginKind, KindTemplate> = { dcv: dcvTemplate, installer: installerTemplate, issuer: issuerTemplate, notify: notifyTemplate };

export interface PluginPlan {
  names: PluginNames;
  /** Relative to the workspace root. */
  folder: string;
  files: PlannedFile[];
}

/** Every file of a new plugin of `kind` named `id` (a name nameProblem() accepted). Pure: nothing is written. */
export function planPlugin(kind: PluginKind, id: string): PluginPlan {
  const names = pluginNames(kind, id);
  return { names, folder: `plugins/${names.folder}`, files: packageFiles(names, TEMPLATES[kind]) };
}
