import { CertsmithError, describeError } from '../errors.js';
import type { Target } from '../model.js';
import type { ServiceState } from './inspect.js';
import type { RunContext } from './run-context.js';

/** Narrows what the inspection found too open (a key readable by others) in place; returns what was done, in words. */
export async function repairModes(run: RunContext, target: Target, states: ServiceState[], dryRun: boolean): Promise<string[]> {
  const done: string[] = [];
  for (const { service, installer, defects } of states) {
    for (const { repair } of defects) {
      if (!repair) continue;
      const mode = `0${repair.mode.toString(8)}`;
      if (dryRun) {
        done.push(`would narrow ${repair.path} to mode ${mode}`);
        continue;
      }
      try {
        if (!installer.restrictMode) throw new CertsmithError('REPAIR_UNSUPPORTED', `the installer of "${service}" cannot change file modes`);
        await installer.restrictMode(repair.path, repair.mode);
        done.push(`narrowed ${repair.path} to mode ${mode}`);
      } catch (error) {
        const { code, message } = describeError(error);
        const next = `set the mode of ${repair.path} to ${mode} by hand`;
        run.fail({ stage: 'install', target: target.id, service, code, message, next, severity: 'error' });
      }
    }
  }
  return done;
}
