// JSON Schema validation without ajv at run time. Loading ajv and compiling a schema costs a run about 8-10 MB of
// RSS (docs/performance.md); ajv's standalone mode turns a schema into plain JavaScript once, at build
// time (scripts/standalone-validator.mjs), and a run loads only that file and ajv's tiny runtime helpers.
// A generated file carries the hash of the schema it was made from; a run uses it only when the hash matches the
// schema in hand, else it compiles with ajv as before, so a stale or missing file can never validate wrongly.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject, Options } from 'ajv';

/** A compiled validator: ajv's ValidateFunction, whichever way it was made. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** How a schema is compiled: the config's own schema strictly, plugins' schemas (third parties') leniently. */
export type SchemaMode = 'config' | 'plugin-options';

const AJV_OPTIONS: Record<SchemaMode, Options> = {
  config: { allErrors: true, strict: true, allowUnionTypes: true },
  // Plugins' schemas are written by third parties: validate with them (every complaint at once), do not lint them.
  'plugin-options': { allErrors: true, strict: false, allowUnionTypes: true },
};

/** The file a plugin may ship beside its entry point: the standalone validator of its manifest's optionsSchema. */
export const OPTIONS_VALIDATOR_FILE = 'options-validator.cjs';

const require = createRequire(import.meta.url);

/** The identity of a schema, as recorded in a generated validator. */
export function schemaHash(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

const runtimeAjv = new Map<SchemaMode, Ajv>();

/** ajv itself, loaded on first use only (a plugin without a generated validator, or tests run from the sources). */
function ajvFor(mode: SchemaMode): Ajv {
  let ajv = runtimeAjv.get(mode);
  if (!ajv) {
    const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
    const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
    ajv = addFormats(new AjvClass(AJV_OPTIONS[mode]));
    runtimeAjv.set(mode, ajv);
  }
  return ajv;
}

/**
 * The validator generated for this schema at `file` (a path or file: URL), or undefined when there is none or it was
 * made from another schema. Any other fault in the file is thrown: a broken build must not pass silently.
 */
export function loadStandaloneValidator(file: string | URL, schema: object): SchemaValidator | undefined {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  let generated: unknown;
  try {
    generated = createRequire(path)(path);
  } catch (error) {
    // No generated file, or the ajv runtime helpers it needs are not installed beside it: compile instead.
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  if (typeof generated !== 'function' || (generated as { schemaHash?: unknown }).schemaHash !== schemaHash(schema)) return undefined;
  return generated as SchemaValidator;
}

/** The generated validator beside `file` when it matches the schema, else the schema compiled by ajv now. */
export function validatorFor(schema: object, mode: SchemaMode, generatedFile?: string | URL): SchemaValidator {
  return (generatedFile && loadStandaloneValidator(generatedFile, schema)) || ajvFor(mode).compile(schema);
}

/**
 * Build time: the source of a CommonJS module whose export is the validator (ajv's standalone code for the schema,
 * compiled with the same options a run would use), with the schema's hash as its `schemaHash`. Throws what ajv throws for an invalid schema.
 */
export function standaloneValidatorSource(schema: object, mode: SchemaMode): string {
  const { Ajv: AjvClass, _ } = require('ajv') as typeof import('ajv');
  const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
  const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: Ajv, validate: unknown) => string }).default;
  const ajv = addFormats(
    new AjvClass({
      ...AJV_OPTIONS[mode],
      code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
    }),
  );
  const code = standaloneCode(ajv, ajv.compile(schema));
  return (
    `// Generated at build time by @certsmith/core's scripts/standalone-validator.mjs from a JSON Schema; do not edit.\n` +
    `${code}\nmodule.exports.schemaHash = ${JSON.stringify(schemaHash(schema))};\n`
  );
}
