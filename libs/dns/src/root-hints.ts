import { readFileSync } from 'node:fs';
import { SocketAddress, isIPv4 } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CertsmithError } from '@certsmith/core';
import { normalizeName } from './wire.js';

/** A root server from the hints: its name and addresses (IPv4 first). */
export interface HintServer {
  name: string;
  addresses: string[];
}

/** The IANA root hints (named.root, as Debian's dns-root-data ships them) inside this package. */
export const IANA_ROOT_HINTS = fileURLToPath(new URL('../named.root', import.meta.url));

/** Parses a named.root-format file: `. NS x.`, then `x. A addr` / `x. AAAA addr`. */
export function parseRootHints(text: string, file = 'root hints'): HintServer[] {
  const names: string[] = [];
  const addresses = new Map<string, { v4: string[]; v6: string[] }>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (!line) continue;
    const fields = line.split(/\s+/);
    // owner [ttl] [class] type data
    const owner = normalizeName(fields[0]!);
    let i = 1;
    if (/^\d+$/.test(fields[i] ?? '')) i++;
    if (/^(IN|CH|HS)$/i.test(fields[i] ?? '')) i++;
    const type = (fields[i] ?? '').toUpperCase();
    const data = fields[i + 1];
    if (!data) continue;
    if (type === 'NS' && owner === '') names.push(normalizeName(data));
    else if ((type === 'A' && isIPv4(data)) || (type === 'AAAA' && isIPv6Address(data))) {
      const entry = addresses.get(owner) ?? { v4: [], v6: [] };
      (type === 'A' ? entry.v4 : entry.v6).push(data);
      addresses.set(owner, entry);
    }
  }
  const servers = names
    .map((name) => ({ name, addresses: [...(addresses.get(name)?.v4 ?? []), ...(addresses.get(name)?.v6 ?? [])] }))
    .filter((s) => s.addresses.length > 0);
  if (servers.length === 0)
    throw new CertsmithError('DNS_ROOT_HINTS_INVALID', `${file}: no root server with an address (expected ". NS name." and "name. A address" lines)`);
  return servers;
}

/**
 * An IPv6 address as inet_pton reads it. Node's isIPv6 would do, but its pattern costs ~10 ms to compile on its first
 * use, and every run reads the root hints' AAAA lines.
 */
function isIPv6Address(text: string): boolean {
  if (!text.includes(':')) return false;
  try {
    new SocketAddress({ address: text, family: 'ipv6' });
    return true;
  } catch {
    return false;
  }
}

export function readRootHints(file: string = IANA_ROOT_HINTS): HintServer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CertsmithError(
      'DNS_ROOT_HINTS_UNREADABLE',
      `${file}: cannot read the root hints (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  return parseRootHints(text, file);
}
