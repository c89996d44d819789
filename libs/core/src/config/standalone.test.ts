import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import schema from './config.schema.json' with { type: 'json' };
import { validateOptions } from './config.js';
import { loadStandaloneValidator, schemaHash, standaloneValidatorSource, validatorFor, type SchemaValidator } from './standalone.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

// Bad configs of every kind of complaint the CLI words (unknown field, missing field, enum, type, oneOf, format, range).
const BAD_CONFIGS: unknown[] = [
  { hostnme: 'h.example.com' },
  { targets: [{ id: 'a' }] },
  { profile: 'cloud' },
  { concurrency: 'four' },
  { concurrency: 0 },
  { plugins: [42] },
  { plugins: [{ module: 'x', options: 3 }] },
  { inspection: { providerIssuerPatterns: ['('] } },
  { services: { web: { reload: 'nginx -s reload' } } },
  { targets: [{ id: 'a', names: [] }] },
  [],
];

describe('standalone validators (generated at build time)', () => {
  let dir: string;
  let generated: SchemaValidator;
  const runtime = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })).compile(schema);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certsmith-standalone-'));
    // The generated code requires ajv's runtime helpers: give the temp dir the repository's node_modules, as dist/ has.
    const ajvEntry = createRequire(import.meta.url).resolve('ajv');
    await symlink(ajvEntry.slice(0, ajvEntry.lastIndexOf('/node_modules/') + '/node_modules'.length), join(dir, 'node_modules'));
    const file = join(dir, 'config-validator.cjs');
    await writeFile(file, standaloneValidatorSource(schema, 'config'));
    generated = loadStandaloneValidator(file, schema)!;
  });

  it('validates the config exactly as ajv compiling the schema at run time: same verdicts, same errors', () => {
    expect(generated).toBeTypeOf('function');
    expect(generated({ hostname: 'h.example.com', targets: [{ id: 'a', names: ['a.example.com'] }] })).toBe(true);
    for (const bad of BAD_CONFIGS) {
      expect(runtime(bad)).toBe(false);
      expect(generated(bad)).toBe(false);
      expect(generated.errors).toEqual(runtime.errors);
    }
  });

  it('is not used when it was made from another schema, or when there is none: the schema is compiled instead', async () => {
    expect(loadStandaloneValidator(join(dir, 'missing.cjs'), schema)).toBeUndefined();
    const other = { type: 'object', properties: { a: { type: 'string' } } };
    expect(loadStandaloneValidator(join(dir, 'config-validator.cjs'), other)).toBeUndefined();
    const compiled = validatorFor(other, 'plugin-options', pathToFileURL(join(dir, 'config-validator.cjs')));
    expect(compiled({ a: 'x' })).toBe(true);
    expect(compiled({ a: 1 })).toBe(false);
  });

  it('validates plugin options with the file beside the plugin when its hash matches the schema', async () => {
    const optionsSchema = { type: 'object', additionalProperties: false, properties: { docroot: { type: 'string', minLength: 1 } } };
    const pluginDir = await mkdtemp(join(dir, 'plugin-'));
    const file = join(pluginDir, 'options-validator.cjs');
    await writeFile(file, standaloneValidatorSource(optionsSchema, 'plugin-options'));
    expect(() => validateOptions(optionsSchema, { docroot: '/srv/www' }, 'c.json', pathToFileURL(file))).not.toThrow();
    expect(() => validateOptions(optionsSchema, { docrot: '/srv/www' }, 'c.json', pathToFileURL(file))).toThrow('c.json: $: unknown field "docrot"');
    // A file whose validator refuses everything, with the schema's hash: the core uses it (and so fails), which shows
    // the file, not ajv, decided.
    const refusing = join(pluginDir, 'refusing.cjs');
    await writeFile(
      refusing,
      `module.exports = function v() { v.errors = [{ instancePath: '/docroot', keyword: 'type', params: { type: 'planet' } }]; return false; };\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(optionsSchema))};\n`,
    );
    expect(() => validateOptions(optionsSchema, { docroot: '/srv/www' }, 'c.json', pathToFileURL(refusing))).toThrow('c.json: $.docroot: must be planet');
    // The same file for another schema is ignored.
    expect(() => validateOptions({ ...optionsSchema, description: 'changed' }, { docroot: '/srv/www' }, 'c.json', pathToFileURL(refusing))).not.toThrow();
  });

  it('refuses to hide a broken generated file', async () => {
    const broken = join(dir, 'broken.cjs');
    await writeFile(broken, 'module.exports = (;\n');
    expect(() => loadStandaloneValidator(broken, schema)).toThrow(SyntaxError);
  });
});
