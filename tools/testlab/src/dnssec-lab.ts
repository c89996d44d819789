import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { namedOwnOptions } from './bind.js';
import { makeKey, signZone, withoutNsecBelowApex, type LabAlgorithm, type Nsec3Options } from './dnssec-signing.js';
import { addLoopbackAlias, randomLoopback } from './loopback.js';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, mustRun, portOpen, run } from './process.js';

/** A DS record in the form a validator takes it: the lab root's is the lab's trust anchor. */
export interface LabDs {
  owner: string;
  keyTag: number;
  algorithm: number;
  digestType: number;
  /** Hex, upper case as dnssec-dsfromkey prints it. */
  digest: string;
}

export interface DnssecLabAddresses {
  /** a.root.: the signed lab root. */
  root: string;
  /** ns1.test.: the signed `test.` TLD. */
  tld: string;
  /** ns1.zones.test.: every child zone below. */
  zones: string;
  /**
   * A recursive BIND that does not validate: it passes signatures on, so delv (which validates itself, and does not
   * set CD) sees why a name is bogus instead of the SERVFAIL a validating resolver would give.
   */
  resolver: string;
}

export interface DnssecLab {
  dir: string;
  addresses: DnssecLabAddresses;
  rootHints: { name: string; addresses: string[] }[];
  /** named.root-format hints that point at the lab root (certsmith's dns.rootHints). */
  rootHintsFile: string;
  /** The root's DS: what a validator is given as its trust anchor. */
  trustAnchors: LabDs[];
  /** The root's DS as a zone-file line (`. IN DS ...`), for certsmith's dns.trustAnchor. */
  trustAnchorDsFile: string;
  /** A BIND `trust-anchors { ... };` file with the root's DS, for `delv -a`. */
  trustAnchorFile: string;
  /** When the signatures of expired.test expired. */
  expiredAt: Date;
  /** `dig` against one server with the arguments given (+time=2 +tries=1 added). */
  dig(server: string, args: string[]): Promise<string>;
  /** `delv +vtrace` against the lab resolver with the lab anchor; stdout and stderr together. */
  delv(name: string, type: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The child zones below `test.`, by what they prove. `www.<zone>` has an A record in each. good.test, rsa.test,
 * expired.test, wrongds.test, nosig.test, nsec3.test, nodenial.test and ed448.test are signed; stripped.test and
 * insecure.test are not. See DNSSEC_LAB_NAMES for the names that prove denials, wildcards and CNAMEs.
 */
export const DNSSEC_LAB_ZONES = {
  /** A correct chain, ECDSA P-256 (algorithm 13). */
  good: 'good.test',
  /** A correct chain, RSA/SHA-256 (algorithm 8). */
  rsa: 'rsa.test',
  /** Every RRSIG expired one day ago. */
  expired: 'expired.test',
  /** The DS in test. matches no DNSKEY of the zone. */
  wrongDs: 'wrongds.test',
  /** Signed, but `bare.nosig.test A` was added after signing: it has no RRSIG. */
  noSig: 'nosig.test',
  /** Served unsigned while test. holds a DS for it. */
  stripped: 'stripped.test',
  /** No DS in test.: an insecure delegation. */
  insecure: 'insecure.test',
  /** Signed with NSEC3 (salted) instead of NSEC; delegates unsigned.nsec3.test without DS. */
  nsec3: 'nsec3.test',
  /** Signed with NSEC3 with opt-out: unsigned.optout.test, delegated without DS, has no NSEC3 of its own. */
  optOut: 'optout.test',
  /** Signed, but served without its NSEC records below the apex: `zz.nodenial.test` and `www` TXT are unproved denials. */
  noDenial: 'nodenial.test',
  /** Signed with Ed448 (algorithm 16), which the validator does not implement; test. holds its DS. */
  ed448: 'ed448.test',
} as const;

/**
 * Names in the lab that prove denials, wildcards and CNAME chains (`www.<zone>` aside). No `nx*` name exists: each is
 * an NXDOMAIN from its zone.
 */
export const DNSSEC_LAB_NAMES = {
  /** `*.wild.good.test A 192.0.2.30`: any name below wild.good.test is a wildcard expansion (NSEC). */
  nsecWildcard: 'wild.good.test',
  /** `*.wild.nsec3.test A 192.0.2.30` (NSEC3). */
  nsec3Wildcard: 'wild.nsec3.test',
  /** CNAME to www.expired.test: the chain ends in a bogus zone. */
  toExpired: 'to-expired.good.test',
  /** CNAME to www.insecure.test: the chain ends in an unsigned zone. */
  toInsecure: 'to-insecure.good.test',
  /** CNAME to www.rsa.test: a chain secure in both zones. */
  toRsa: 'to-rsa.good.test',
  /** Delegated by nsec3.test without DS to the lab resolver's server, which serves it unsigned. */
  nsec3Insecure: 'unsigned.nsec3.test',
  /** Delegated by optout.test without DS (no NSEC3 of its own: opt-out) to the lab resolver's server. */
  optOutInsecure: 'unsigned.optout.test',
  /**
   * Signed, delegated by good.test with its DS and served by good.test's own server, which answers from it with no
   * referral: the cut is seen only in the RRSIGs' signer and the DS good.test holds.
   */
  sameServerSigned: 'sub.good.test',
  /** Unsigned, delegated by good.test without DS and served by good.test's own server (no referral, no RRSIG). */
  sameServerUnsigned: 'plain.good.test',
  /**
   * Signed, delegated without DS by nodenial.test (whose NSEC records below the apex are dropped) and served by its
   * server: nothing proves the DS absent, so a validator calls it bogus.
   */
  sameServerUnproved: 'hidden.nodenial.test',
} as const;

const DAY_MS = 86_400_000;

export interface DnssecLabOptions {
  /** How many more names good.test holds (`n0.good.test` ...), each with an A record: for a benchmark. */
  names?: number;
  /**
   * Where every name's A record points (each zone's apex and `www`, the wildcards, `bare.nosig.test`) instead of
   * documentation and zone-server addresses, with no AAAA: a web server on loopback that a CA's http-01 check may reach.
   */
  webAddress?: string;
}

/**
 * A DNSSEC-signed hierarchy from BIND 9 on loopback aliases: a signed root (its DS is the trust anchor), a signed
 * `test.` TLD and the child zones of DNSSEC_LAB_ZONES, all signed offline with dnssec-signzone (one combined key
 * per zone), plus a validating resolver. See the "Signed zones" section of the README for the traps.
 */
export async function startDnssecLab(options: DnssecLabOptions = {}): Promise<DnssecLab> {
  await ensurePackages({ '/usr/sbin/named': 'bind9', '/usr/sbin/dnssec-signzone': 'bind9-utils', '/usr/bin/delv': 'bind9-dnsutils' });
  const lab = await labDir('dnssec');
  const dir = lab.path;
  const addresses: DnssecLabAddresses = { root: '', tld: '', zones: '', resolver: '' };
  const used = new Set<string>();
  for (const key of Object.keys(addresses) as (keyof DnssecLabAddresses)[]) {
    let a = randomLoopback();
    while (used.has(a)) a = randomLoopback();
    used.add(a);
    addresses[key] = a;
  }
  const removers: (() => Promise<void>)[] = [];
  const servers: ServerProcess[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    for (const remove of removers.splice(0)) await remove();
    await lab.cleanup();
  };
  try {
    for (const address of Object.values(addresses)) removers.push(await addLoopbackAlias(address));
    const keysDir = join(dir, 'keys');
    await mkdir(keysDir);
    const signed = await signHierarchy(keysDir, { ...addresses, web: options.webAddress }, options.names ?? 0);
    const trustAnchorFile = join(dir, 'anchor.conf');
    await writeFile(trustAnchorFile, anchorClause(signed.rootDs));
    const rootHints = `.        3600000  NS  a.root.\na.root.  3600000  A   ${addresses.root}\n`;
    const rootHintsFile = join(dir, 'root.hints');
    await writeFile(rootHintsFile, rootHints);
    const trustAnchorDsFile = join(dir, 'root.ds');
    const ds = signed.rootDs;
    await writeFile(trustAnchorDsFile, `. IN DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest}\n`);
    const start = (name: string, address: string, conf: string, files: Record<string, string>) =>
      startNamed(servers, join(dir, name), name, address, conf, files);
    await Promise.all([
      start('root', addresses.root, authoritative(['.']), { 'root.zone': signed.zones['']! }),
      start('tld', addresses.tld, authoritative(['test']), { 'test.zone': signed.zones['test']! }),
      start('zones', addresses.zones, authoritative(ZONES_SERVER_ZONES), childFiles(signed.zones)),
    ]);
    const served = [DNSSEC_LAB_NAMES.nsec3Insecure, DNSSEC_LAB_NAMES.optOutInsecure];
    const servedFiles = Object.fromEntries(served.map((zone) => [`${zone}.zone`, signed.zones[zone]!]));
    await start('resolver', addresses.resolver, recursiveResolver(served), { 'root.hints': rootHints, ...servedFiles });
    const dig = (server: string, args: string[]) => mustRun('dig', [`@${server}`, '-p', '53', '+time=2', '+tries=1', ...args]);
    const delv = async (name: string, type: string) => {
      const out = await run('delv', [`@${addresses.resolver}`, '-a', trustAnchorFile, '+root=.', '+vtrace', name, type]);
      return out.stdout + out.stderr;
    };
    return {
      dir,
      addresses,
      rootHints: [{ name: 'a.root', addresses: [addresses.root] }],
      rootHintsFile,
      trustAnchors: [signed.rootDs],
      trustAnchorDsFile,
      trustAnchorFile,
      expiredAt: signed.expiredAt,
      dig,
      delv,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

interface SignedHierarchy {
  /** Zone ('' for the root) to the text the server loads. */
  zones: Record<string, string>;
  rootDs: LabDs;
  expiredAt: Date;
}

/** The lab's addresses and, when given, the web address its names point at (DnssecLabOptions.webAddress). */
type ZoneAddresses = DnssecLabAddresses & { web: string | undefined };

/** Signs bottom-up: each child's DS goes into its parent before the parent is signed. */
async function signHierarchy(keysDir: string, a: ZoneAddresses, names: number): Promise<SignedHierarchy> {
  const z = DNSSEC_LAB_ZONES;
  const now = Date.now();
  const expiredAt = new Date(Math.floor((now - DAY_MS) / 1000) * 1000);
  const zones: Record<string, string> = {};
  const dsLines: string[] = [];
  const signChild = async (zone: string, algorithm: LabAlgorithm, extra = '', window?: { inception: Date; expiration: Date }, nsec3?: Nsec3Options) => {
    const key = await makeKey(keysDir, zone, algorithm);
    zones[zone] = (await signZone(keysDir, zone, childText(zone, a.zones, a.web), key, window, nsec3)) + extra;
    return key;
  };
  const n = DNSSEC_LAB_NAMES;
  // n<i>.good.test: distinct signed names for a benchmark, signed with the zone like the rest of it.
  const many = Array.from({ length: names }, (_, i) => `n${i}.${z.good}. IN A 192.0.2.${(i % 250) + 1}\n`).join('');
  const key = await makeKey(keysDir, z.good, 'ECDSAP256SHA256');
  const goodNames = `*.${n.nsecWildcard}. IN A ${a.web ?? '192.0.2.30'}
${n.toExpired}. IN CNAME www.${z.expired}.
${n.toInsecure}. IN CNAME www.${z.insecure}.
${n.toRsa}. IN CNAME www.${z.rsa}.
${await sameServerChildren(keysDir, zones, a)}`;
  zones[z.good] = await signZone(keysDir, z.good, childText(z.good, a.zones, a.web) + goodNames + many, key);
  dsLines.push(key.ds);
  dsLines.push((await signChild(z.rsa, 'RSASHA256')).ds);
  dsLines.push((await signChild(z.expired, 'ECDSAP256SHA256', '', { inception: new Date(now - 30 * DAY_MS), expiration: expiredAt })).ds);
  await signChild(z.wrongDs, 'ECDSAP256SHA256');
  dsLines.push((await makeKey(keysDir, z.wrongDs, 'ECDSAP256SHA256')).ds);
  // Added after signing, so no RRSIG covers it; BIND serves a signed zone file as it is.
  dsLines.push((await signChild(z.noSig, 'ECDSAP256SHA256', `bare.${z.noSig}. 60 IN A ${a.web ?? '192.0.2.99'}\n`)).ds);
  zones[z.stripped] = childText(z.stripped, a.zones, a.web);
  dsLines.push((await makeKey(keysDir, z.stripped, 'ECDSAP256SHA256')).ds);
  zones[z.insecure] = childText(z.insecure, a.zones, a.web);
  dsLines.push(...(await signNewZones(keysDir, zones, a)));

  const delegations = Object.values(z)
    .map((zone) => `${zone}. IN NS ns1.zones.test.`)
    .join('\n');
  const tldText = `$TTL 300
test.            IN SOA ns1.test. hostmaster.test. 1 300 60 86400 60
test.            IN NS  ns1.test.
ns1.test.        IN A   ${a.tld}
ns1.zones.test.  IN A   ${a.zones}
ns2.zones.test.  IN A   ${a.resolver}
${delegations}
${dsLines.join('\n')}
`;
  const tldKey = await makeKey(keysDir, 'test', 'ECDSAP256SHA256');
  zones['test'] = await signZone(keysDir, 'test', tldText, tldKey);
  const rootKey = await makeKey(keysDir, '.', 'ECDSAP256SHA256');
  const rootText = `$TTL 300
.            IN SOA a.root. hostmaster.root. 1 300 60 86400 60
.            IN NS  a.root.
a.root.      IN A   ${a.root}
test.        IN NS  ns1.test.
ns1.test.    IN A   ${a.tld}
${tldKey.ds}
`;
  zones[''] = await signZone(keysDir, '.', rootText, rootKey);
  return { zones, rootDs: parseDs(rootKey.ds), expiredAt };
}

/**
 * The zones that prove denials and unknown algorithms: nsec3.test (NSEC3, a wildcard, an unsigned child),
 * optout.test (NSEC3 opt-out, an unsigned child), nodenial.test (its NSEC records dropped after signing, with
 * hidden.nodenial.test on its server) and ed448.test. The unsigned children are served by the resolver's server and go into `zones` too. Returns the DS lines
 * for test.
 */
async function signNewZones(keysDir: string, zones: Record<string, string>, a: ZoneAddresses): Promise<string[]> {
  const z = DNSSEC_LAB_ZONES;
  const n = DNSSEC_LAB_NAMES;
  const nsec3Extra = `*.${n.nsec3Wildcard}. IN A ${a.web ?? '192.0.2.30'}\n${n.nsec3Insecure}. IN NS ns2.zones.test.\n`;
  const nsec3Key = await makeKey(keysDir, z.nsec3, 'ECDSAP256SHA256');
  zones[z.nsec3] = await signZone(keysDir, z.nsec3, childText(z.nsec3, a.zones, a.web) + nsec3Extra, nsec3Key, undefined, { salt: 'C0FFEE', optOut: false });
  const optOutKey = await makeKey(keysDir, z.optOut, 'ECDSAP256SHA256');
  const optOutText = childText(z.optOut, a.zones, a.web) + `${n.optOutInsecure}. IN NS ns2.zones.test.\n`;
  zones[z.optOut] = await signZone(keysDir, z.optOut, optOutText, optOutKey, undefined, { salt: 'C0FFEE', optOut: true });
  // Names that resolve insecurely point at the zones' server, where nothing serves HTTP: a DCV check stays on loopback.
  for (const child of [n.nsec3Insecure, n.optOutInsecure]) {
    const text = childText(child, a.resolver, a.web).replace(/192\.0\.2\.10/, a.zones);
    // With a web address the child's own NS set names the server its parent delegates to, for a CA's check that asks
    // the zone's servers (by default it names ns1.zones.test, which holds only the parent: a lame child NS set).
    zones[child] = a.web ? text.replace(/^(\S+\s+IN NS\s+)ns1\.zones\.test\./m, '$1ns2.zones.test.') : text;
  }
  const noDenialKey = await makeKey(keysDir, z.noDenial, 'ECDSAP256SHA256');
  const hidden = n.sameServerUnproved;
  zones[hidden] = await signZone(keysDir, hidden, sameServerText(hidden, a), await makeKey(keysDir, hidden, 'ECDSAP256SHA256'));
  const noDenialText = `${childText(z.noDenial, a.zones, a.web)}${hidden}. IN NS ns1.zones.test.\n`;
  zones[z.noDenial] = withoutNsecBelowApex(await signZone(keysDir, z.noDenial, noDenialText, noDenialKey), z.noDenial);
  const ed448Key = await makeKey(keysDir, z.ed448, 'ED448');
  zones[z.ed448] = await signZone(keysDir, z.ed448, childText(z.ed448, a.zones, a.web).replace(/192\.0\.2\.10/, a.zones), ed448Key);
  return [nsec3Key.ds, optOutKey.ds, noDenialKey.ds, ed448Key.ds];
}

/**
 * sub.good.test (signed) and plain.good.test (unsigned), served by the zones' server beside good.test; returns their
 * delegation (and sub's DS) for good.test. Their www has an A record at the zones' server (a DCV check stays on
 * loopback) and no AAAA, so that an address lookup also needs each child's denial.
 */
async function sameServerChildren(keysDir: string, zones: Record<string, string>, a: ZoneAddresses): Promise<string> {
  const n = DNSSEC_LAB_NAMES;
  const text = (zone: string) => sameServerText(zone, a);
  const key = await makeKey(keysDir, n.sameServerSigned, 'ECDSAP256SHA256');
  zones[n.sameServerSigned] = await signZone(keysDir, n.sameServerSigned, text(n.sameServerSigned), key);
  zones[n.sameServerUnsigned] = text(n.sameServerUnsigned);
  return `${n.sameServerSigned}. IN NS ns1.zones.test.\n${key.ds}\n${n.sameServerUnsigned}. IN NS ns1.zones.test.\n`;
}

/** A child zone on the zones' server beside its parent: www at that server (loopback), without AAAA. */
function sameServerText(zone: string, a: ZoneAddresses): string {
  return childText(zone, a.zones, a.web)
    .replace(/192\.0\.2\.10/, a.zones)
    .replace(/^www\.\S+\s+IN AAAA .*\n/m, '');
}

/** A zone's apex and www: at `www` with no AAAA when given, else at documentation addresses (www has A and AAAA). */
function childText(zone: string, server: string, www?: string): string {
  const addresses = www ? `www.${zone}.  IN A   ${www}\n` : `www.${zone}.  IN A   192.0.2.10\nwww.${zone}.  IN AAAA 2001:db8::10\n`;
  return `$TTL 300
${zone}.      IN SOA ns1.zones.test. hostmaster.${zone}. 1 300 60 86400 60
${zone}.      IN NS  ns1.zones.test.
${zone}.      IN A   ${www ?? '192.0.2.1'}
${addresses}; ${server} serves this zone
`;
}

/** The zones the zones' server holds: DNSSEC_LAB_ZONES and the children that share good.test's server. */
const ZONES_SERVER_ZONES: string[] = [
  ...Object.values(DNSSEC_LAB_ZONES),
  DNSSEC_LAB_NAMES.sameServerSigned,
  DNSSEC_LAB_NAMES.sameServerUnsigned,
  DNSSEC_LAB_NAMES.sameServerUnproved,
];

function childFiles(zones: Record<string, string>): Record<string, string> {
  return Object.fromEntries(ZONES_SERVER_ZONES.map((zone) => [`${zone}.zone`, zones[zone]!]));
}

/** `good.test. IN DS 12345 13 2 ABCD...` as dnssec-dsfromkey prints it. */
export function parseDs(line: string): LabDs {
  const m = /^(\S+)\s+(?:\d+\s+)?IN\s+DS\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9A-Fa-f\s]+)$/.exec(line.trim());
  if (!m) throw new LabError(`not a DS line: ${line}`);
  return { owner: m[1]!, keyTag: Number(m[2]), algorithm: Number(m[3]), digestType: Number(m[4]), digest: m[5]!.replace(/\s/g, '').toUpperCase() };
}

function anchorClause(ds: LabDs): string {
  return `trust-anchors {\n  "${ds.owner}" static-ds ${ds.keyTag} ${ds.algorithm} ${ds.digestType} "${ds.digest}";\n};\n`;
}

function authoritative(zones: string[]): string {
  return `options { recursion no; dnssec-validation no; };\n${zones.map((z) => `zone "${z}" { type primary; file "${z === '.' ? 'root' : z}.zone"; };`).join('\n')}\n`;
}

/** The lab resolver; it also serves `served` (unsigned zones that no server of their parents may hold). */
function recursiveResolver(served: string[]): string {
  return `options { recursion yes; allow-recursion { 127.0.0.0/8; }; dnssec-validation no; };
zone "." { type hint; file "root.hints"; };
${served.map((zone) => `zone "${zone}" { type primary; file "${zone}.zone"; };`).join('\n')}
`;
}

/** One named on `address` from `idir`, its options merged into the common ones; waits until port 53 answers. */
async function startNamed(servers: ServerProcess[], idir: string, name: string, address: string, conf: string, files: Record<string, string>): Promise<void> {
  await mkdir(idir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(idir, file), text);
  const common = `${namedOwnOptions(idir, address)}
  allow-query { 127.0.0.0/8; };
  notify no;
`;
  const confFile = join(idir, 'named.conf');
  await writeFile(confFile, conf.replace('options {', `options {\n${common}`));
  const check = await run('named-checkconf', ['-z', confFile]);
  if (check.code !== 0) throw new LabError(`named-checkconf rejected the ${name} config:\n${check.stdout}${check.stderr}`);
  const server = new ServerProcess(`named (${name} on ${address})`, '/usr/sbin/named', ['-4', '-n', '1', '-g', '-c', confFile]);
  servers.push(server);
  await server.waitUntil(() => portOpen(address, 53), 20_000);
}
