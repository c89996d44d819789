// Installing certificate files safely: checks, generations switched by one rename, an install journal,
// bounded reloads, live proof, rollback; the cPanel service layouts.
export { FileInstaller, INSTALL_STEPS, type FileInstallerOptions, type LayoutFile, type ServiceLayout, type FileContent } from './file-installer.js';
export { GenerationStore } from './generation-store.js';
export { InstallJournal, type JournalEntry } from './journal.js';
export { materialProblems } from './checks.js';
export { runReload } from './reload.js';
export { uidOf, gidOf } from './accounts.js';
export { CPANEL_LAYOUTS, SERVICE_PROFILES, type ServiceProfile } from './layouts.js';
export { installerFromConfig, type InstallSettings, type InstallerDeps } from './from-config.js';
export { layoutInstallerPlugin } from './plugin.js';
export { readFile as readSmallFile, readSmallFileWithMode } from './read-file.js';
export { distroFamilyOf, readDistroFamily, forDistro, type DistroFamily, type PerDistro } from './distro.js';
