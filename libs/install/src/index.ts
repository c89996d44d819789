// Installing certificate files safely: atomic writes, backups, layouts, reload, read-back proof.
export { writeFileAtomic, syncDirectory, type WriteOptions } from './atomic-write.js';
export { FileInstaller, type FileInstallerOptions, type LayoutFile, type ServiceLayout, type FileContent } from './file-installer.js';
export { CPANEL_LAYOUTS } from './layouts.js';
export { installerFromConfig } from './from-config.js';
export { layoutInstallerPlugin } from './plugin.js';
