// Installs the certificate of Exim (SMTP): myexim.crt/.key, or exim.crt/.key, under paths.sslDir/exim; with
// `"links": true` also /etc/exim.crt and /etc/exim.key. Exim must be restarted, not HUPed: a daemon started with
// -C re-execs without root after SIGHUP and cannot bind ports below 1024 again (tools/testlab/README.md#exim).
import { SERVICE_PROFILES, layoutInstallerPlugin } from '@certsmith/install';

export const manifest = layoutInstallerPlugin('@certsmith/installer-exim', '0.1.0', 'exim', SERVICE_PROFILES.exim);
export default manifest;
