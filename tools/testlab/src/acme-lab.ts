import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDnsLab, type DnsLab } from './bind.js';
import { IPV6_LOOPBACK, holdIpv6Loopback } from './ipv6-loopback.js';
import { randomLoopback } from './loopback.js';
import { startNginx, type Nginx, type NginxSite } from './nginx.js';
import { startPebble, type Pebble, type PebbleOptions } from './pebble.js';
import { LabError, labDir } from './process.js';

export interface AcmeLabOptions {
  /** Names the lab's temp dir (certsmith-<name>-…). */
  name: string;
  /** The names nginx serves from `docroot` (the first is the default server). */
  webNames: string[];
  /** More nginx server blocks after that one (their own docroots, redirects, slow locations, ...). */
  extraSites?: (lab: { dir: string; docroot: string }) => NginxSite[];
  /** The names that get an A record to nginx in example.test (default: every name nginx serves). */
  pointedNames?: string[];
  /** More update lines for example.test (AAAA, CNAME, CAA, ...), sent after the A records in the same update. */
  records?: string[];
  /** nginx's loopback address (default: a random one): for a zone text that must name it before the lab starts. */
  webAddress?: string;
  /** More zones below `test.` (see DnsLabOptions.extraZones). */
  extraZones?: Record<string, string>;
  /**
   * A second nginx on [::1] that serves these names from an empty docroot (every file 404s). ::1 is the one IPv6
   * address, so the lab holds the ::1 lock (holdIpv6Loopback) from before it starts until stop().
   */
  ipv6WebNames?: string[];
  /** Pebble's EAB key and fault variables; false: no Pebble (the test brings its own CA). */
  pebble?: false | Pick<PebbleOptions, 'eab' | 'eabKey' | 'env'>;
}

/** What an ACME issuer needs to reach a CA; a Pebble is one, the rate-limiting double another. */
export interface LabCaEndpoint {
  directoryUrl: string;
  tlsCaFile: string;
  eab?: { kid: string; hmacKey: string };
}

/** Config fields; a field given as undefined leaves the lab's default out of the file. */
export type ConfigFields = Record<string, unknown>;

/**
 * The lab of the CLI's ACME end-to-end tests: BIND (names iterated from the lab root), nginx serving a docroot in the
 * lab's own temp dir (where the names point), and Debian's Pebble validating through that BIND and nginx.
 */
export interface AcmeLab {
  /** The temp dir: configs, copies of key files, state and ssl dirs live here (paths in configs are relative to it). */
  dir: string;
  /** nginx's docroot, `<dir>/html` (created by nginx; the HTTP DCV plugin writes into it). */
  docroot: string;
  dns: DnsLab;
  nginx: Nginx;
  /** The [::1] nginx, when ipv6WebNames was given. */
  nginx6?: Nginx;
  /** The lab's Pebble; a LabError when the lab was started with `pebble: false`. */
  readonly pebble: Pebble;
  /** The config entry of the HTTP DCV plugin, on the lab's docroot. */
  httpDcvPlugin: { module: string; options: { docroot: string } };
  /**
   * Another Pebble (a random address unless given) that validates through the lab's BIND and nginx, as the lab's own
   * does. The caller stops it.
   */
  startPebble(options?: Partial<PebbleOptions>): Promise<Pebble>;
  /**
   * Copies the CA's TLS root into `<name>-ca.pem` (the lab removes its own when that CA stops) and writes the EAB HMAC
   * key into `<name>.eab` (mode 0600); returns the issuer's directoryUrl, caFile and eab options that name them.
   * `ca` defaults to the lab's Pebble, `eab` to the CA's key (either half may be replaced).
   */
  acmeIssuerOptions(
    name: string,
    access?: { ca?: LabCaEndpoint; eab?: { kid?: string; hmacKey?: string } },
  ): Promise<{
    directoryUrl: string;
    caFile: string;
    eab: { kid: string; keyFile: string };
  }>;
  /**
   * Writes `<dir>/<name>.json` and returns its path: the fields given, over the lab's defaults (paths `./state-<name>`
   * and `./ssl-<name>`, inspection.live false, server.addresses [nginx], dns from the lab root on port 53).
   */
  writeConfig(name: string, fields: ConfigFields): Promise<string>;
  /** Copies the lab's TSIG key (allowed to update example.test) to `<dir>/tsig.key`, mode 0600; returns './tsig.key'. */
  copyTsigKey(): Promise<string>;
  /** How many requests nginx has logged whose line contains `text` (a path such as '/.well-known/acme-challenge/'). */
  webHits(text: string): Promise<number>;
  /** Stops Pebble, nginx and BIND, removes the temp dir, releases ::1. */
  stop(): Promise<void>;
}

/**
 * Starts BIND and nginx together, points the names at nginx with one TSIG-signed update (waiting for the secondary),
 * then Pebble. A server that cannot start fails with its own output (LabError), after whatever did start is stopped.
 */
export async function startAcmeLab(options: AcmeLabOptions): Promise<AcmeLab> {
  const stops: (() => Promise<void>)[] = [];
  // Everything is stopped even when one part fails to stop (BIND's loopback aliases must not stay behind).
  const stop = async () => {
    const errors: unknown[] = [];
    for (const next of stops.splice(0).reverse()) await next().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  };
  try {
    if (options.ipv6WebNames) stops.push(await holdIpv6Loopback());
    const lab = await labDir(options.name);
    stops.push(lab.cleanup);
    const dir = lab.path;
    const docroot = join(dir, 'html');
    const sites = [{ serverNames: options.webNames, docroot }, ...(options.extraSites?.({ dir, docroot }) ?? [])];
    const started = await Promise.allSettled([
      startDnsLab({ extraZones: options.extraZones }),
      startNginx({ address: options.webAddress ?? randomLoopback(), sites }),
      options.ipv6WebNames ? startNginx({ address: IPV6_LOOPBACK, sites: [{ serverNames: options.ipv6WebNames, docroot: join(dir, 'empty6') }] }) : undefined,
    ]);
    for (const result of started) if (result.status === 'fulfilled' && result.value) stops.push(result.value.stop);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const dns = (started[0] as PromiseFulfilledResult<DnsLab>).value;
    const nginx = (started[1] as PromiseFulfilledResult<Nginx>).value;
    const nginx6 = (started[2] as PromiseFulfilledResult<Nginx | undefined>).value;

    await dns.updateExampleZone([
      ...(options.pointedNames ?? sites.flatMap((site) => site.serverNames)).map((name) => `update add ${name}. 60 IN A ${nginx.address}`),
      ...(options.records ?? []),
    ]);
    const startLabPebble = (extra: Partial<PebbleOptions> = {}) =>
      startPebble({ address: randomLoopback(), httpPort: nginx.httpPort, dnsServer: `${dns.addresses.primary}:53`, ...extra });
    let pebble: Pebble | undefined;
    if (options.pebble !== false) {
      pebble = await startLabPebble(options.pebble);
      stops.push(pebble.stop);
    }
    const labPebble = (): Pebble => {
      if (!pebble) throw new LabError(`the "${options.name}" lab was started without Pebble (pebble: false)`);
      return pebble;
    };
    return {
      dir,
      docroot,
      dns,
      nginx,
      nginx6,
      get pebble() {
        return labPebble();
      },
      httpDcvPlugin: { module: '@certsmith/dcv-http', options: { docroot } },
      startPebble: startLabPebble,
      async acmeIssuerOptions(name, access = {}) {
        const ca = access.ca ?? labPebble();
        const kid = access.eab?.kid ?? ca.eab?.kid;
        const hmacKey = access.eab?.hmacKey ?? ca.eab?.hmacKey;
        if (kid === undefined || hmacKey === undefined)
          throw new LabError(`acmeIssuerOptions("${name}"): the CA at ${ca.directoryUrl} has no EAB key: give one`);
        await copyFile(ca.tlsCaFile, join(dir, `${name}-ca.pem`));
        await writeFile(join(dir, `${name}.eab`), `${hmacKey}\n`, { mode: 0o600 });
        return { directoryUrl: ca.directoryUrl, caFile: `./${name}-ca.pem`, eab: { kid, keyFile: `./${name}.eab` } };
      },
      async writeConfig(name, fields) {
        const file = join(dir, `${name}.json`);
        await writeFile(
          file,
          JSON.stringify(
            {
              paths: { stateDir: `./state-${name}`, sslDir: `./ssl-${name}` },
              inspection: { live: false },
              server: { addresses: [nginx.address] },
              dns: { rootHints: dns.rootHintsFile, port: 53 },
              ...fields,
            },
            null,
            2,
          ),
        );
        return file;
      },
      async copyTsigKey() {
        await copyFile(dns.tsigKeyFile, join(dir, 'tsig.key'));
        await chmod(join(dir, 'tsig.key'), 0o600);
        return './tsig.key';
      },
      async webHits(text) {
        return (await readFile(join(nginx.dir, 'access.log'), 'utf8').catch(() => '')).split('\n').filter((line) => line.includes(text)).length;
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
