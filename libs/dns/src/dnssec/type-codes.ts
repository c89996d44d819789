import { createRequire } from 'node:module';

// dns-packet's own table of type names, which its typings leave out.
const types = createRequire(import.meta.url)('dns-packet/types.js') as { toType(name: string): number };

/** The numeric code of a record type name (A: 1, RRSIG: 46, TYPE65534: 65534); throws for an unknown name. */
export function typeCode(name: string): number {
  const code = types.toType(name);
  if (!code) throw new Error(`unknown record type ${name}`);
  return code;
}
