import type { Directory } from './client.js';

/**
 * Why a CA cannot issue under `profile` (ACME profiles: the directory's `meta.profiles` lists what it offers), in
 * words for the administrator, or null when it offers that profile.
 */
export function profileRefusal(directory: Directory, directoryUrl: string, profile: string): string | null {
  const offered = Object.keys(directory.meta?.profiles ?? {});
  if (offered.includes(profile)) return null;
  return `the CA at ${directoryUrl} offers no profile "${profile}" (${offered.length ? `it offers: ${offered.join(', ')}` : 'it offers no profiles at all'})`;
}
