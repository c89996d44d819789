import { access } from 'node:fs/promises';
import { join } from 'node:path';

/** cPanel's switch files, read from the state directory at the start of a run. */
export interface Switches {
  /** `disable_auto_hostname_certificate`: never order a CA-signed hostname certificate. */
  noHostnameCertificate: boolean;
  /** `disable_service_certificate_management`: no automatic replacement at all, and no expiry notices. */
  noServiceManagement: boolean;
}

export const SWITCH_FILES = {
  noHostnameCertificate: 'disable_auto_hostname_certificate',
  noServiceManagement: 'disable_service_certificate_management',
} as const;

export async function readSwitches(stateDir: string): Promise<Switches> {
  const exists = (name: string) =>
    access(join(stateDir, name)).then(
      () => true,
      () => false,
    );
  return {
    noHostnameCertificate: await exists(SWITCH_FILES.noHostnameCertificate),
    noServiceManagement: await exists(SWITCH_FILES.noServiceManagement),
  };
}
