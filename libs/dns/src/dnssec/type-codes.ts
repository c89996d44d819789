// dns-packet's own table of type names (typed in dns-packet-types.d.ts: its typings leave it out).
import types from 'dns-packet/types.js';

/** The numeric code of a record type name (A: 1, RRSIG: 46, TYPE65534: 65534); throws for an unknown name. */
export function typeCode(name: string): number {
  const code = types.toType(name);
  if (!code) throw new Error(`unknown record type ${name}`);
  return code;
}
