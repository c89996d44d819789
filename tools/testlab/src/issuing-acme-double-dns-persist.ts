import { run } from './process.js';

/** Where the double looks the standing record up (an authoritative server of the lab's DNS) and who it says it is. */
export interface DnsPersistCheck {
  /** The CA's issuer domain names, sent as the challenge's `issuer-domain-names`; the record must carry one. */
  issuerDomainNames: string[];
  server: { address: string; port?: number };
}

/**
 * The double's dns-persist-01 check (draft-ietf-acme-dns-persist, see docs/domain-facts.md): the TXT RRset at
 * `_validation-persist.<name>` (a wildcard's base name) asked of one server with dig, as a CA asks the zone's
 * authoritative servers; one value must name an issuer domain name of the CA and carry `accounturi` equal to the
 * account's URL, with `policy=wildcard` for a wildcard and no `persistUntil` in the past. Written apart from
 * certsmith's own parser, so that each checks the other. Resolves to null when it passes, else to what was wrong.
 */
export async function checkDnsPersist01(check: DnsPersistCheck, name: string, accountUrl: string, now: Date): Promise<string | null> {
  const wildcard = name.startsWith('*.');
  const owner = `_validation-persist.${wildcard ? name.slice(2) : name}`;
  const dig = await run('dig', [
    `@${check.server.address}`,
    '-p',
    String(check.server.port ?? 53),
    '+norecurse',
    '+short',
    '+time=2',
    '+tries=1',
    owner,
    'TXT',
  ]);
  if (dig.code !== 0) return `cannot look up TXT ${owner} at ${check.server.address}: ${dig.stderr.trim() || dig.stdout.trim()}`;
  const values = dig.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(joinDigStrings);
  if (values.length === 0) return `no TXT record at ${owner}`;
  const ours = values.map(parseIssueValue).filter((v) => v && check.issuerDomainNames.some((d) => d.toLowerCase() === v.issuer.toLowerCase()));
  if (ours.length === 0) return `no TXT record at ${owner} names ${check.issuerDomainNames.join(' or ')} (found: ${values.join(' | ')})`;
  const bound = ours.filter((v) => v!.params.get('accounturi') === accountUrl);
  if (bound.length === 0)
    return `the record at ${owner} binds another account (${ours.map((v) => v!.params.get('accounturi') ?? 'none').join(', ')}), not ${accountUrl}`;
  const live = bound.filter((v) => {
    const until = v!.params.get('persistuntil');
    return until === undefined || (/^\d+$/.test(until) && Number(until) * 1000 > now.getTime());
  });
  if (live.length === 0) return `the record at ${owner} is past its persistUntil`;
  if (wildcard && !live.some((v) => v!.params.get('policy')?.toLowerCase() === 'wildcard')) return `the record at ${owner} lacks policy=wildcard for ${name}`;
  return null;
}

/** dig +short prints a TXT value as quoted strings side by side: their contents, joined. */
function joinDigStrings(line: string): string {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')).join('');
}

/** `issuer; key=value; ...` (RFC 8659 section 4.2); parameter keys lower-cased; null when there is no issuer. */
function parseIssueValue(value: string): { issuer: string; params: Map<string, string> } | null {
  const [issuer, ...rest] = value.split(';').map((part) => part.trim());
  if (!issuer) return null;
  const params = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf('=');
    if (at > 0) params.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  return { issuer, params };
}
