// Installs the certificate of the control-panel daemon (cpsrvd): mycpanel.pem + mycpanel.cabundle, or cpanel.pem, under paths.sslDir/cpanel.
import { SERVICE_PROFILES, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-cpanel', '0.1.0', 'cpanel', SERVICE_PROFILES.cpanel);
export default manifest;
