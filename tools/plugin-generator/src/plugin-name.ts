/** The kinds of plugin the generator makes, by the folder prefix each kind's packages share. */
export const PLUGIN_KINDS = ['dcv', 'installer', 'issuer', 'notify'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** How one plugin is named in each place: folder and package, class, and the id a config refers to. */
export interface PluginNames {
  kind: PluginKind;
  /** The name as given: the DCV method's, issuer's or notifier's id, the installer's service id. */
  id: string;
  /** `issuer-<id>`: the folder under plugins/ and the package's name after `@certsmith/`. */
  folder: string;
  packageName: string;
  /** `InternalCaIssuer` for an issuer named internal-ca. */
  className: string;
  /** `internal-ca-issuer`: the implementation's file name, without `.ts`. */
  fileName: string;
}

const ROLES: Record<PluginKind, string> = { dcv: 'dcv', installer: 'installer', issuer: 'issuer', notify: 'notifier' };

// Lower-case words joined by single hyphens: valid as an npm package name, a folder, a config id and a class name.
const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_LENGTH = 40;

export function isPluginKind(kind: string): kind is PluginKind {
  return (PLUGIN_KINDS as readonly string[]).includes(kind);
}

/** What is wrong with a plugin name, in words; undefined when it is a good one. */
export function nameProblem(kind: PluginKind, name: string): string | undefined {
  if (!NAME.test(name)) return `"${name}" is not a plugin name: use lower-case letters and digits in words joined by single hyphens, e.g. "internal-ca"`;
  if (name.length > MAX_LENGTH) return `"${name}" is ${name.length} characters long; a plugin name has at most ${MAX_LENGTH}`;
  if (name.startsWith(`${kind}-`)) return `"${name}": give the name without the "${kind}-" prefix, which the generator adds`;
  return undefined;
}

/** The names of a plugin whose name nameProblem() accepted. */
export function pluginNames(kind: PluginKind, id: string): PluginNames {
  const role = ROLES[kind];
  const pascal = (words: string) =>
    words
      .split('-')
      .map((word) => word[0]!.toUpperCase() + word.slice(1))
      .join('');
  return {
    kind,
    id,
    folder: `${kind}-${id}`,
    packageName: `@certsmith/${kind}-${id}`,
    className: pascal(`${id}-${role}`),
    fileName: `${id}-${role}`,
  };
}
