// Lint: the TypeScript rules that catch real mistakes, and the dependency rules of the design:
// the core imports no plugin and no app; libs import no plugin; a plugin never imports another plugin.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const PLUGIN_PACKAGES = ['@certsmith/issuer-*', '@certsmith/installer-*', '@certsmith/dcv-*', '@certsmith/notify-*', '@certsmith/scheduler-*'];
const noPlugins = (message) => ({ group: PLUGIN_PACKAGES, message });
const noApps = { group: ['@certsmith/cli', '@certsmith/testlab', '@certsmith/bench'], message: 'apps and tools depend on libraries, never the reverse' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'sandbox/**', '.nx/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        Buffer: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['libs/core/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@certsmith/*'], message: 'the core imports no other certsmith package' }] }] },
  },
  {
    files: ['libs/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'libs/core/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noPlugins('libraries never import a plugin'), noApps] }] },
  },
  {
    files: ['plugins/*/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noPlugins('a plugin never imports another plugin'), noApps] }] },
  },
);
