// @ts-expect-error dns-packet's typings leave out its own table of type names; an ES import keeps it in a bundle.
import typeTable from 'dns-packet/types.js';

const types = typeTable as { toType(name: string): number };

/** The numeric code of a record type name (A: 1, RRSIG: 46, TYPE65534: 65534); throws for an unknown name. */
export function typeCode(name: string): number {
  const code = types.toType(name);
  if (!code) throw new Error(`unknown record type ${name}`);
  return code;
}
