import type { PluginNames } from '../plugin-name.js';
import type { KindTemplate } from './kind-template.js';

/** One file of a new plugin, by its path inside the plugin's folder. */
export interface PlannedFile {
  path: string;
  content: string;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const versions = (packages: string[]) => Object.fromEntries(packages.map((name) => [name, '*']));

/** The files every plugin package has, as the workspace's other plugins have them. */
export function packageFiles(names: PluginNames, template: KindTemplate): PlannedFile[] {
  const packageJson = {
    name: names.packageName,
    version: '0.1.0',
    private: true,
    type: 'module',
    description: template.description(names),
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { '@certsmith/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist'],
    scripts: {
      // The second step compiles the options schema into the validator a run loads instead of ajv.
      build: 'tsc -p tsconfig.lib.json && node ../../libs/core/scripts/standalone-validator.mjs plugin',
      lint: 'eslint .',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      test: 'vitest run',
    },
    dependencies: versions(template.dependencies),
    ...(template.devDependencies.length > 0 ? { devDependencies: versions(template.devDependencies) } : {}),
  };
  // The targets are the package's scripts, named here so that Nx and a reader see them in one place.
  const target = (script: string) => ({ executor: 'nx:run-script', options: { script } });
  const projectJson = {
    name: names.packageName,
    $schema: '../../node_modules/nx/schemas/project-schema.json',
    projectType: 'library',
    sourceRoot: `plugins/${names.folder}/src`,
    tags: ['plugin', `plugin:${names.kind}`],
    targets: { build: target('build'), lint: target('lint'), typecheck: target('typecheck'), test: target('test') },
  };
  return [
    { path: 'package.json', content: json(packageJson) },
    { path: 'project.json', content: json(projectJson) },
    {
      path: 'tsconfig.json',
      content: `{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "noEmit": true, "customConditions": ["@certsmith/source"] },
  "include": ["src/**/*.ts", "vitest.config.ts"]
}
`,
    },
    {
      path: 'tsconfig.lib.json',
      content: `{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist", "tsBuildInfoFile": "dist/.tsbuildinfo" },
  "include": ["src/**/*.ts"],
  "exclude": ["src/**/*.test.ts"]
}
`,
    },
    {
      path: 'vitest.config.ts',
      content: `import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@certsmith/source'] },
  test: { include: ['src/**/*.test.ts'] },
});
`,
    },
    { path: 'src/index.ts', content: template.index(names) },
    { path: `src/${names.fileName}.ts`, content: template.implementation(names) },
    { path: `src/${names.fileName}.test.ts`, content: template.test(names) },
  ];
}
