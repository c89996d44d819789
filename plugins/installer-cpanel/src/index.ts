// Installs the certificate of the control-panel daemon (cpsrvd): mycpanel.pem + mycpanel.cabundle, or cpanel.pem, in the cPanel layout under paths.sslDir.
import { CPANEL_LAYOUTS, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-cpanel', '0.1.0', 'cpanel', CPANEL_LAYOUTS.cpanel);
export default manifest;
