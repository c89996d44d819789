import type { PluginNames } from '../plugin-name.js';

/** What one kind of plugin brings to the files every plugin has. */
export interface KindTemplate {
  /** One line for package.json, naming what the plugin contributes. */
  description(names: PluginNames): string;
  /** The certsmith packages its code imports, and those only its test imports. */
  dependencies: string[];
  devDependencies: string[];
  /** src/index.ts: the manifest, its options schema and the ContainerModule that binds the contribution. */
  index(names: PluginNames): string;
  /** src/<fileName>.ts and src/<fileName>.test.ts. */
  implementation(names: PluginNames): string;
  test(names: PluginNames): string;
}
