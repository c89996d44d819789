import { randomBytes } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startAcmeLab, type AcmeLab } from './acme-lab.js';
import { startDnssecLab, DNSSEC_LAB_NAMES, DNSSEC_LAB_ZONES } from './dnssec-lab.js';
import { IPV6_LOOPBACK } from './ipv6-loopback.js';
import { startIssuingAcmeDouble, type IssuingAcmeDouble } from './issuing-acme-double.js';
import { randomLoopback } from './loopback.js';
import { startNginx } from './nginx.js';
import { startPebble, type Pebble } from './pebble.js';
import { mustRun } from './process.js';
import { makeStaleSecondary } from './stale-secondary.js';
import { startBoth } from './start-together.js';
import { startUnbound } from './unbound.js';

/** The CAA issuer domain name of the proof's CA (the double checks it; Pebble has none). */
export const PROOF_CAA_IDENTITY = 'proof-ca.test';

/** One name of the proof and the fault it is under ('control': none). */
export interface ProofName {
  kind: string;
  name: string;
  /** The DNS tree it lives in: the lab's unsigned BIND root, or the signed one. */
  world: 'web' | 'dnssec';
  /** What the lab did to the name, one line. */
  fault: string;
  /** How the CA validates it: http-01 from the docroot, or dns-persist-01 against the name's standing record. */
  challenge: 'http-01' | 'dns-persist-01';
}

/**
 * One DNS tree with the CAs that validate through it: a recursive Unbound (validating in the signed tree), Debian's
 * Pebble asking it, and the issuing double with a real CA's checks (CAA, every perspective) asking it too.
 */
export interface ProofWorld {
  rootHintsFile: string;
  /** For a signed tree: certsmith's dns.trustAnchor file. */
  trustAnchorDsFile?: string;
  /** The recursive Unbound both CAs ask. */
  resolver: string;
  /** Absent when the lab was started without CAs. */
  pebble?: Pebble;
  double?: IssuingAcmeDouble;
}

export interface ProofLab {
  dir: string;
  /** nginx's docroot, served for every name of the web world (the DCV plugin and the orders write here). */
  docroot: string;
  /**
   * certsmith's server.addresses: this server's first, then every other web address of the lab. The lab's loopback
   * addresses stand for public ones, which the pre-check fetches from (a private address not listed fails unfetched).
   */
  serverAddresses: string[];
  names: ProofName[];
  web: ProofWorld;
  dnssec: ProofWorld;
  acme: AcmeLab;
  /** `dig` through one world's resolver (rcode and answer: `+noall +comments +answer`). */
  resolve(world: 'web' | 'dnssec', name: string, type: string): Promise<string>;
  /** Adds the RFC 8657 record that binds the proof's CA to this account for the names meant to be bound to it. */
  bindAccount(accountUri: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ProofLabOptions {
  /** Start Pebble and the issuing double in each world (default true); the lab's own test needs neither. */
  cas?: boolean;
}

/**
 * The lab of the proof's score (docs/performance.md, "the proof's score"): names under a dozen kinds of fault that a CA refuses, and control names it
 * validates, in two DNS trees: the lab's BIND root (nginx on one address, a second nginx on ::1 that serves nothing,
 * a stale secondary) and the DNSSEC lab's signed root. Every name is for the proof's own CA, PROOF_CAA_IDENTITY.
 */
export async function startProofLab(options: ProofLabOptions = {}): Promise<ProofLab> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const next of stops.splice(0).reverse()) await next().catch(() => undefined);
  };
  try {
    const plan = webPlan();
    const [acme, signed] = await startBoth(
      startAcmeLab({
        name: 'proof',
        webAddress: plan.web,
        webNames: plan.served,
        extraSites: plan.sites,
        pointedNames: plan.pointed,
        records: plan.records,
        ipv6WebNames: plan.v6,
        pebble: false,
      }),
      startDnssecLab({ webAddress: plan.web }),
    );
    stops.push(acme.stop, signed.stop);
    const others = await startOtherServers(acme, plan);
    stops.push(others.stop);
    const [unbound, validating] = await startBoth(
      startUnbound({ rootHintsFile: acme.dns.rootHintsFile, cacheMaxTtl: 1 }),
      startUnbound({ rootHintsFile: signed.rootHintsFile, trustAnchorFile: signed.trustAnchorDsFile, cacheMaxTtl: 1 }),
    );
    stops.push(unbound.stop, validating.stop);
    const web: ProofWorld = { rootHintsFile: acme.dns.rootHintsFile, resolver: unbound.address };
    const dnssec: ProofWorld = { rootHintsFile: signed.rootHintsFile, trustAnchorDsFile: signed.trustAnchorDsFile, resolver: validating.address };
    if (options.cas !== false) {
      stops.push(await startCas(web, plan.web, acme.dns.addresses.primary));
      stops.push(await startCas(dnssec, plan.web));
    }
    return {
      dir: acme.dir,
      docroot: acme.docroot,
      serverAddresses: [plan.web, IPV6_LOOPBACK, others.stale, plan.other, plan.silent],
      names: [...plan.names, ...dnssecNames()],
      web,
      dnssec,
      acme,
      resolve: (world, name, type) =>
        mustRun('dig', [`@${world === 'web' ? web.resolver : dnssec.resolver}`, '+time=2', '+tries=1', '+noall', '+comments', '+answer', name, type]),
      async bindAccount(accountUri) {
        await acme.dns.updateExampleZone([
          ...plan.bound.map((name) => `update add ${name}. 60 IN CAA 0 issue "${PROOF_CAA_IDENTITY}; accounturi=${accountUri}"`),
          ...plan.standing.map((name) => `update add _validation-persist.${name}. 60 IN TXT "${PROOF_CAA_IDENTITY}; accounturi=${accountUri}"`),
        ]);
        await unbound.flushZone('example.test');
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The stale secondary's old address, where another nginx serves the same docroot, and `other`: a server with nothing in its docroot. */
async function startOtherServers(acme: AcmeLab, plan: ReturnType<typeof webPlan>): Promise<{ stale: string; stop: () => Promise<void> }> {
  const [stale, other] = await startBoth(
    startNginx({ address: randomLoopback(), sites: [{ serverNames: ['_'], docroot: acme.docroot }] }),
    startNginx({ address: plan.other, sites: [{ serverNames: ['_'], docroot: join(acme.dir, 'other-server') }] }),
  );
  const stop = async () => void (await Promise.all([stale.stop(), other.stop()]));
  try {
    await makeStaleSecondary(acme.dns, {
      transferred: [`www     IN A   ${stale.address}`, `old     IN A   ${plan.silent}`],
      primaryOnly: [`www     IN A   ${plan.web}`, `old     IN A   ${plan.web}`],
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { stale: stale.address, stop };
}

/** One tree's Pebble and double, both asking its resolver; returns what stops them. */
async function startCas(world: ProofWorld, webAddress: string, persistServer?: string): Promise<() => Promise<void>> {
  world.pebble = await startPebble({ address: randomLoopback(), httpPort: 80, dnsServer: `${world.resolver}:53` });
  try {
    world.double = await startIssuingAcmeDouble({
      validation: {
        http01: { address: webAddress },
        ...(persistServer ? { dnsPersist01: { issuerDomainNames: [PROOF_CAA_IDENTITY], server: { address: persistServer } } } : {}),
      },
      caChecks: { checks: ['caa', 'perspectives'], resolver: world.resolver, caaIdentity: PROOF_CAA_IDENTITY },
    });
  } catch (error) {
    await world.pebble.stop();
    throw error;
  }
  const [pebble, double] = [world.pebble, world.double];
  return async () => void (await Promise.all([pebble.stop(), double.stop()]));
}

/** The web world's names, zone records and nginx sites. */
function webPlan() {
  const host = `proof-${randomBytes(3).toString('hex')}.example.test`;
  const at = (label: string) => `${label}.${host}`;
  const web = randomLoopback();
  const silent = randomLoopback();
  const names = webNames(host, silent);
  const other = randomLoopback();
  const wk = (body: string) => `    location /.well-known/ { ${body} }\n`;
  const served = [host, at('www'), at('caa-ok'), at('shop'), at('crit'), at('alias'), at('bound'), at('elsewhere'), at('dns-only'), at('http-ok')];
  served.push('www.files.test', 'old.files.test', at('split'), at('split-other'), at('dual'), at('dual-www'), at('persist-ok'), at('persist-other'));
  return {
    host,
    web,
    silent,
    names,
    served,
    bound: [at('bound')],
    standing: [at('persist-ok')],
    v6: [at('dual'), at('dual-www')],
    pointed: [...served.filter((n) => !n.endsWith('.files.test') && n !== at('alias')), at('missing'), at('other-root'), at('to-host'), at('off-host')],
    sites: ({ dir }: { dir: string }) => [
      { serverNames: [at('missing')], docroot: join(dir, 'html'), extra: wk('return 404;') },
      { serverNames: [at('other-root')], docroot: join(dir, 'other-root') },
      { serverNames: [at('to-host')], docroot: join(dir, 'html'), extra: wk(`return 301 http://${host}$request_uri;`) },
      { serverNames: [at('off-host')], docroot: join(dir, 'html'), extra: wk(`return 301 http://${at('gone')}$request_uri;`) },
    ],
    records: [
      `update add ${at('moved-away')}. 60 IN A ${silent}`,
      `update add ${at('other-host')}. 60 IN A ${other}`,
      `update add ${at('split')}. 60 IN A ${silent}`,
      `update add ${at('split-other')}. 60 IN A ${other}`,
      ...[at('dual'), at('dual-www')].map((n) => `update add ${n}. 60 IN AAAA ${IPV6_LOOPBACK}`),
      `update add ${at('caa-ok')}. 60 IN CAA 0 issue "${PROOF_CAA_IDENTITY}"`,
      `update add ${at('shop')}. 60 IN CAA 0 issue "other-ca.example"`,
      `update add ${at('crit')}. 60 IN CAA 0 issue "${PROOF_CAA_IDENTITY}"`,
      `update add ${at('crit')}. 60 IN CAA 128 tbs "unknown"`,
      `update add ${at('alias')}. 60 IN CNAME ${at('shop')}.`,
      `update add ${at('elsewhere')}. 60 IN CAA 0 issue "${PROOF_CAA_IDENTITY}; accounturi=https://elsewhere.example/acct/9"`,
      `update add ${at('dns-only')}. 60 IN CAA 0 issue "${PROOF_CAA_IDENTITY}; validationmethods=dns-01"`,
      `update add ${at('http-ok')}. 60 IN CAA 0 issue "${PROOF_CAA_IDENTITY}; validationmethods=http-01"`,
      `update add _validation-persist.${at('persist-other')}. 60 IN TXT "${PROOF_CAA_IDENTITY}; accounturi=https://elsewhere.example/acct/9"`,
    ],
    other,
  };
}

/** The web tree's names below `host`, each with its fault. */
function webNames(host: string, silent: string): ProofName[] {
  const at = (label: string) => `${label}.${host}`;
  const names: ProofName[] = [];
  const add = (kind: string, name: string, fault: string, challenge: ProofName['challenge'] = 'http-01') =>
    names.push({ kind, name, world: 'web', fault, challenge });
  add('control', host, 'none: A to this server, which serves the docroot');
  add('control', at('www'), 'none');
  add('control', at('caa-ok'), `none: CAA issue "${PROOF_CAA_IDENTITY}"`);
  add('nxdomain', at('gone'), 'no record at all (NXDOMAIN)');
  add('nxdomain', at('typo'), 'no record at all (NXDOMAIN)');
  add('wrong address', at('moved-away'), `A to ${silent}, where nothing listens`);
  add('wrong address', at('other-host'), 'A to another server (a second nginx with its own empty docroot)');
  add('404', at('missing'), 'this server answers 404 under /.well-known/');
  add('404', at('other-root'), 'this server serves the name from another docroot');
  add('redirect', at('to-host'), `301 to http://${host}/ (same path), which serves the docroot`);
  add('redirect', at('off-host'), `301 to http://${at('gone')}/ (NXDOMAIN)`);
  add('CAA forbids', at('shop'), 'CAA 0 issue "other-ca.example"');
  add('CAA forbids', at('crit'), `CAA issue "${PROOF_CAA_IDENTITY}" and 128 tbs "unknown"`);
  add('CAA forbids', at('alias'), `CNAME to ${at('shop')}`);
  add('CAA accounturi', at('bound'), `CAA issue "${PROOF_CAA_IDENTITY}; accounturi=<the ordering account>"`);
  add('CAA accounturi', at('elsewhere'), `CAA issue "${PROOF_CAA_IDENTITY}; accounturi=https://elsewhere.example/acct/9"`);
  add('CAA validationmethods', at('dns-only'), `CAA issue "${PROOF_CAA_IDENTITY}; validationmethods=dns-01"`);
  add('CAA validationmethods', at('http-ok'), `CAA issue "${PROOF_CAA_IDENTITY}; validationmethods=http-01"`);
  add('servers disagree', 'www.files.test', 'the secondary kept an old address, where another nginx serves the same docroot');
  add('servers disagree', 'old.files.test', `the secondary kept an old address, ${silent}, where nothing listens`);
  add('one address', at('split'), `A to this server and A to ${silent}, where nothing listens`);
  add('one address', at('split-other'), 'A to this server and A to another server with an empty docroot');
  add('AAAA', at('dual'), 'A to this server, AAAA ::1 where a second nginx answers 404');
  add('AAAA', at('dual-www'), 'A to this server, AAAA ::1 where a second nginx answers 404');
  add('dns-persist', at('persist-ok'), `standing _validation-persist TXT "${PROOF_CAA_IDENTITY}; accounturi=<the ordering account>"`, 'dns-persist-01');
  add('dns-persist', at('persist-other'), `standing TXT "${PROOF_CAA_IDENTITY}; accounturi=https://elsewhere.example/acct/9"`, 'dns-persist-01');
  return names;
}

/** The kind of the signed tree's names a validating CA accepts: secure, or insecure below a proved unsigned cut. */
const DNSSEC_VALID_KIND = 'DNSSEC secure/insecure';

/**
 * The signed tree's names (DNSSEC_LAB_ZONES, DNSSEC_LAB_NAMES), each at this lab's web server: the bogus ones fail
 * validation; the others take the validator's other paths (denials, wildcards, CNAME chains, cuts, algorithms) to an
 * answer a validating CA accepts.
 */
function dnssecNames(): ProofName[] {
  const z = DNSSEC_LAB_ZONES;
  const n = DNSSEC_LAB_NAMES;
  const bogus = [
    { name: `www.${z.expired}`, fault: 'every RRSIG expired' },
    { name: `www.${z.wrongDs}`, fault: 'the DS in test. matches no key of the zone' },
    { name: `bare.${z.noSig}`, fault: 'an A record with no RRSIG in a signed zone' },
    { name: `www.${z.stripped}`, fault: 'served unsigned while test. holds a DS' },
    { name: n.toExpired, fault: `CNAME from good.test (secure) to www.${z.expired}, whose RRSIGs expired` },
    { name: `www.${n.sameServerUnproved}`, fault: "a signed child on its parent's server, no DS and no proof of its absence" },
  ];
  const valid = [
    { name: `www.${z.good}`, fault: 'none: secure (ECDSA P-256)' },
    { name: `www.${n.nsecWildcard}`, fault: 'none: a wildcard expansion, secure with its NSEC proof' },
    { name: `www.${n.nsec3Wildcard}`, fault: 'none: a wildcard expansion, secure with its NSEC3 proof' },
    { name: n.toRsa, fault: `none: CNAME to www.${z.rsa}, secure in both zones` },
    { name: n.toInsecure, fault: `none: CNAME from good.test (secure) to www.${z.insecure} (no DS: insecure)` },
    { name: `www.${n.nsec3Insecure}`, fault: 'none: below a delegation without DS, its absence proved by NSEC3' },
    { name: `www.${n.optOutInsecure}`, fault: 'none: below a delegation without DS, covered by an NSEC3 opt-out span' },
    { name: `www.${n.sameServerSigned}`, fault: "none: a signed child on its parent's server (no referral), DS in good.test" },
    { name: `www.${n.sameServerUnsigned}`, fault: "none: an unsigned child on its parent's server, NSEC proves no DS" },
    { name: `www.${z.ed448}`, fault: 'none: signed with Ed448 (algorithm 16), which certsmith treats as unsigned' },
  ];
  const of = (kind: string) => (x: { name: string; fault: string }) => ({ ...x, kind, world: 'dnssec' as const, challenge: 'http-01' as const });
  return [...bogus.map(of('DNSSEC bogus')), ...valid.map(of(DNSSEC_VALID_KIND))];
}

/** Writes the CA's TLS root into the lab dir for a config's caFile; returns its path relative to the lab dir. */
export async function copyCaFile(lab: ProofLab, ca: { tlsCaFile: string }, name: string): Promise<string> {
  await copyFile(ca.tlsCaFile, join(lab.dir, `${name}-ca.pem`));
  return `./${name}-ca.pem`;
}
