import { Resolver } from 'node:dns/promises';
import { getOver } from './issuing-acme-double-http01.js';

/**
 * What a real CA checks that Debian's Pebble 2.4 does not, as the issuing double's option: CAA with the RFC 8657
 * parameters (RFC 8659's tree climb through a recursive resolver), and http-01 from every perspective (every
 * authoritative server of the name's zone asked for its A and AAAA, and the token fetched over every address they
 * give). Written on node's own DNS client and HTTP, apart from certsmith's resolver and DCV code that it judges.
 */
export interface IssuingAcmeDoubleCaChecks {
  checks: ('caa' | 'perspectives')[];
  /** The recursive resolver the CA asks, `address` or `address:port` (a lab Unbound; a validating one refuses bogus DNSSEC). */
  resolver: string;
  /** This CA's CAA issuer domain name. */
  caaIdentity: string;
  /** The port http-01 is fetched from (default 80). */
  httpPort?: number;
}

/** One http-01 challenge as the CA checks it. */
export interface CaCheckedChallenge {
  name: string;
  token: string;
  keyAuthorization: string;
  /** The ordering account's URL (CAA accounturi). */
  accountUri: string;
}

const MAX_REDIRECTS = 10;

/** Null when the CA would validate the challenge; else why it refuses. */
export async function checkAsCa(options: IssuingAcmeDoubleCaChecks, challenge: CaCheckedChallenge): Promise<string | null> {
  const recursive = resolverAt(options.resolver);
  try {
    if (options.checks.includes('caa')) {
      const caa = await caaRefusal(recursive, options.caaIdentity, challenge, 'http-01');
      if (caa) return caa;
    }
    const addresses = options.checks.includes('perspectives')
      ? await addressesFromEveryServer(recursive, challenge.name)
      : (await addressesOf(recursive, challenge.name)).slice(0, 1).map((address) => ({ address, from: 'the resolver' }));
    if (typeof addresses === 'string') return addresses;
    if (addresses.length === 0) return `${challenge.name} has no A or AAAA record`;
    for (const { address, from } of addresses) {
      const failure = await fetchToken(recursive, options.httpPort ?? 80, address, challenge);
      if (failure) return `${failure} (address ${address} from ${from})`;
    }
    return null;
  } catch (error) {
    return `DNS: ${(error as Error).message}`;
  }
}

/**
 * Null when CAA lets this CA issue for `name` to the account over `method` (any method: CAA binds them all), else
 * why not. Only with 'caa' among the checks.
 */
export async function caaAsCa(options: IssuingAcmeDoubleCaChecks, name: string, accountUri: string, method: string): Promise<string | null> {
  if (!options.checks.includes('caa')) return null;
  try {
    return await caaRefusal(resolverAt(options.resolver), options.caaIdentity, { name, accountUri }, method);
  } catch (error) {
    return `DNS: ${(error as Error).message}`;
  }
}

function resolverAt(server: string): Resolver {
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers([server]);
  return resolver;
}

/** Empty for "no such name" or "no such record"; throws on SERVFAIL, refusal or timeout. */
async function orNone<T>(lookup: Promise<T[]>): Promise<T[]> {
  try {
    return await lookup;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENODATA' || (error as NodeJS.ErrnoException).code === 'ENOTFOUND') return [];
    throw error;
  }
}

async function addressesOf(resolver: Resolver, name: string): Promise<string[]> {
  const [v6, v4] = await Promise.all([orNone(resolver.resolve6(name)), orNone(resolver.resolve4(name))]);
  return [...v6, ...v4];
}

/**
 * RFC 8659 section 3: the CAA RRset of the name or of its closest ancestor that has one (the recursive resolver
 * follows CNAMEs); RFC 8657: a record that names this CA may bind it to an account and to validation methods.
 */
async function caaRefusal(
  resolver: Resolver,
  identity: string,
  challenge: Pick<CaCheckedChallenge, 'name' | 'accountUri'>,
  method: string,
): Promise<string | null> {
  const labels = challenge.name.toLowerCase().replace(/\.$/, '').split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const at = labels.slice(i).join('.');
    const records = await orNone(resolver.resolveCaa(at));
    if (records.length === 0) continue;
    for (const record of records) {
      const known = ['issue', 'issuewild', 'iodef', 'contactemail', 'contactphone'];
      const tags = Object.keys(record).filter((key) => key !== 'critical');
      if (record.critical & 128 && tags.some((tag) => !known.includes(tag))) return `CAA at ${at}: a critical unknown property forbids issuance`;
    }
    const issues = records.flatMap((record) => (record.issue === undefined ? [] : [record.issue]));
    if (issues.length === 0) return null;
    const permits = issues.some((value) => permitsUs(value, identity, challenge.accountUri, method));
    return permits ? null : `CAA at ${at} (${issues.map((v) => `issue "${v}"`).join(', ')}) does not let ${identity} issue for this account over ${method}`;
  }
  return null;
}

function permitsUs(value: string, identity: string, accountUri: string, method: string): boolean {
  const [domain, ...parameters] = value.split(';').map((part) => part.trim());
  if (domain?.toLowerCase() !== identity.toLowerCase()) return false;
  for (const parameter of parameters.filter(Boolean)) {
    const eq = parameter.indexOf('=');
    const [key, v] = [parameter.slice(0, eq).trim().toLowerCase(), parameter.slice(eq + 1).trim()];
    if (key === 'accounturi' && v !== accountUri) return false;
    if (
      key === 'validationmethods' &&
      !v
        .split(',')
        .map((m) => m.trim())
        .includes(method)
    )
      return false;
  }
  return true;
}

/**
 * Every address any authoritative server of the name's zone gives, each with the server that gave it. A server that
 * answers with a CNAME is followed to the target's own zone, as a CA's resolver follows it (at most 8 links).
 */
async function addressesFromEveryServer(recursive: Resolver, name: string, links = 0): Promise<{ address: string; from: string }[] | string> {
  const servers = await authoritativeServers(recursive, name);
  if (servers.length === 0) return `no nameserver found for ${name}`;
  const found: { address: string; from: string }[] = [];
  const add = (address: string, from: string) => found.some((f) => f.address === address) || found.push({ address, from });
  for (const server of servers) {
    const at = resolverAt(server.address);
    const failed = (error: Error) => `${server.name} (${server.address}) failed: ${error.message}`;
    const alias = await orNone(at.resolveCname(name)).catch(failed);
    if (typeof alias === 'string') return alias;
    if (alias.length > 0) {
      if (links >= 8) return `${name}: more than 8 CNAME links`;
      const followed = await addressesFromEveryServer(recursive, alias[0]!, links + 1);
      if (typeof followed === 'string') return followed;
      for (const f of followed) add(f.address, `${server.name} (${server.address}) via CNAME ${alias[0]}, then ${f.from}`);
      continue;
    }
    const answers = await addressesOf(at, name).catch(failed);
    if (typeof answers === 'string') return answers;
    for (const address of answers) add(address, `${server.name} (${server.address})`);
  }
  return found;
}

/** The NS set of the closest enclosing zone, each server with its addresses (from the recursive resolver). */
async function authoritativeServers(recursive: Resolver, name: string): Promise<{ name: string; address: string }[]> {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  for (let i = 0; i < labels.length; i++) {
    const ns = await orNone(recursive.resolveNs(labels.slice(i).join('.')));
    if (ns.length === 0) continue;
    const servers: { name: string; address: string }[] = [];
    for (const host of ns) for (const address of await orNone(recursive.resolve4(host))) servers.push({ name: host, address });
    return servers;
  }
  return [];
}

/** GET the token over one address with the name as Host; redirects (http, port 80) followed through the resolver. */
async function fetchToken(recursive: Resolver, port: number, address: string, challenge: CaCheckedChallenge): Promise<string | null> {
  let url = new URL(`http://${challenge.name}/.well-known/acme-challenge/${challenge.token}`);
  let at = address;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const answer = await getOver(at, port, url);
    if (typeof answer === 'string') return `${url.href}: cannot fetch from ${at}: ${answer}`;
    if (answer.status >= 300 && answer.status < 400 && answer.location) {
      const next = new URL(answer.location, url);
      if (next.protocol !== 'http:' || (next.port !== '' && next.port !== '80')) return `${url.href} redirects to ${next.href}, which this CA does not follow`;
      const nextAddress = (await addressesOf(recursive, next.hostname))[0];
      if (!nextAddress) return `${url.href} redirects to ${next.href}, whose host does not resolve`;
      [url, at] = [next, nextAddress];
      continue;
    }
    if (answer.status !== 200) return `${url.href} answered HTTP ${answer.status}`;
    return answer.body.trim() === challenge.keyAuthorization ? null : `${url.href} is not the key authorization`;
  }
  return `more than ${MAX_REDIRECTS} redirects from http://${challenge.name}/`;
}
