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

/** What differs between the kinds' src/index.ts; the manifest around it is the same for every kind. */
export interface IndexParts {
  /** The file's opening comment, without the `// `. */
  summary: string;
  /** Import lines besides the core's ContainerModule, TOKENS and definePlugin (which every index needs). */
  imports: string;
  /** More names to take from the core (a type the binding reads). */
  coreNames?: string[];
  /** The `export … from` line(s) of the plugin's public surface. */
  exports: string;
  packageName: string;
  /** The options schema's members after `type: 'object', additionalProperties: false,`. */
  schema: string;
  /** The statement(s) inside the ContainerModule that bind the contribution. */
  bind: string;
}

/** src/index.ts of a generated plugin: the manifest, its options schema and the ContainerModule that binds it. */
export function indexSource(parts: IndexParts): string {
  const coreNames = ['ContainerModule', 'TOKENS', 'definePlugin', ...(parts.coreNames ?? [])].join(', ');
  return `// ${parts.summary}
${parts.imports.includes('node:') ? `${parts.imports}\nimport { ${coreNames} } from '@certsmith/core';` : `import { ${coreNames} } from '@certsmith/core';\n${parts.imports}`}

${parts.exports}

export const manifest = definePlugin({
  name: '${parts.packageName}',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    ${parts.schema}
  },
  module: (options) =>
    new ContainerModule(({ bind }) => {
      ${parts.bind}
    }),
});
export default manifest;
`;
}
