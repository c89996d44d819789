// dns-packet's own table of record type names and codes, which its published typings leave out.
declare module 'dns-packet/types.js' {
  const types: { toType(name: string): number; toString(type: number): string };
  export default types;
}
