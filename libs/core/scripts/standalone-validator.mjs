#!/usr/bin/env node
// Build step (after tsc): compiles a JSON Schema into ajv's standalone validator, so that a run validates without
// loading ajv or compiling anything (src/config/standalone.ts says why).
//   node scripts/standalone-validator.mjs config   in libs/core: dist/config/config.schema.json -> dist/config/config-validator.cjs
//   node <core>/scripts/standalone-validator.mjs plugin   in a plugin's package: the optionsSchema of the manifest that
//        dist/index.js exports -> dist/options-validator.cjs (nothing when the manifest has no schema)
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import 'reflect-metadata'; // some plugins' dependencies (@peculiar/x509 through tsyringe) need it when imported
import { OPTIONS_VALIDATOR_FILE, standaloneValidatorSource } from '../dist/config/standalone.js';

const [what] = process.argv.slice(2);
if (what === 'config') {
  const schema = JSON.parse(await readFile(resolve('dist/config/config.schema.json'), 'utf8'));
  writeFileSync(resolve('dist/config/config-validator.cjs'), standaloneValidatorSource(schema, 'config'));
} else if (what === 'plugin') {
  const exports = await import(pathToFileURL(resolve('dist/index.js')).href);
  const manifest = exports.manifest ?? exports.default;
  if (manifest?.optionsSchema) writeFileSync(resolve('dist', OPTIONS_VALIDATOR_FILE), standaloneValidatorSource(manifest.optionsSchema, 'plugin-options'));
} else {
  console.error('usage: standalone-validator.mjs config|plugin');
  process.exit(2);
}
