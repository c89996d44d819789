import { createSocket, type Socket } from 'node:dgram';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addLoopbackAlias, randomLoopback } from './loopback.js';
import { ensurePackages } from './packages.js';
import { LabError, ServerProcess, labDir, mustRun, portOpen, run, sleep } from './process.js';

export interface DnsLabOptions {
  /** How long the slow server (slow.test) holds every answer. */
  slowDelayMs?: number;
  /**
   * More zones below `test.`, served by the primary and delegated to ns1.example.test: zone name (e.g. 'caa.test')
   * to zone text (`$ORIGIN` is the zone; `@ IN SOA` and `@ IN NS ns1.example.test.` are the caller's to write).
   */
  extraZones?: Record<string, string>;
}

/** The addresses of the lab's servers, all on port 53. */
export interface DnsLabAddresses {
  /** a.root.: the fake root. */
  root: string;
  /** ns1.test.: the `test.` TLD. */
  tld: string;
  /** ns1.example.test.: primary of example.test (dynamic, TSIG), files.test (zone file), and the other test zones. */
  primary: string;
  /** ns2.example.test.: secondary of example.test and files.test (NOTIFY + zone transfer); REFUSES lame.test. */
  secondary: string;
  /** ns1.slow.test.: a relay that answers for slow.test after slowDelayMs. */
  slow: string;
}

export interface DnsLab {
  dir: string;
  addresses: DnsLabAddresses;
  /** named.root-format hints that point at the lab root (for certsmith's dns.rootHints and Unbound). */
  rootHintsFile: string;
  rootHints: { name: string; addresses: string[] }[];
  /** BIND key file (tsig-keygen output, mode 0600) allowed to update example.test. */
  tsigKeyFile: string;
  tsigKeyName: string;
  /** A key file with the same name and another secret: updates signed with it fail with BADSIG. */
  wrongTsigKeyFile: string;
  /** The zone file of files.test on the primary (edited by the zone-file DCV mode, then `rndc reload`). */
  filesZoneFile: string;
  /** The argv that reloads a zone on the primary; `{zone}` stands for the zone name. */
  reloadCommand: string[];
  slowDelayMs: number;
  /** `dig +norecurse +short` against one server (the whole answer with '+noshort' in extra). */
  dig(server: string, name: string, type: string, extra?: string[]): Promise<string>;
  /** SOA serial of a zone on one server (null when it does not answer for it). */
  serial(server: string, zone: string): Promise<number | null>;
  /**
   * Applies `update add|delete ...` lines to example.test on the primary (nsupdate, TSIG) and waits until the
   * secondary has transferred them: the iterative resolver may ask either server.
   */
  updateExampleZone(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

const BIG_TXT_RECORDS = 40;

/**
 * A DNS hierarchy from Debian's BIND 9 on loopback aliases (BIND listens only on addresses an interface
 * has): a fake root, the `test.` TLD, a primary and a secondary for the test zones, and a slow relay.
 *
 * Zones (see the zone texts below): example.test (glue, two servers, TSIG updates, CNAME chains, a loop inside the zone that BIND itself fails, and xloop: a loop across two zones),
 * files.test (zone file + rndc reload), glueless.test (NS name without glue), lame.test (one server refuses),
 * dead.test (every server refuses), big.test (a TXT set that only fits over TCP), slow.test (slow server),
 * loop.test / loop2.test (glueless NS names that depend on each other), bench.test (a wildcard: any number of
 * distinct names that exist, for the resolver benchmark).
 */
export async function startDnsLab(options: DnsLabOptions = {}): Promise<DnsLab> {
  await ensurePackages({ '/usr/sbin/named': 'bind9', '/usr/sbin/rndc': 'bind9-utils', '/usr/bin/dig': 'bind9-dnsutils' });
  const lab = await labDir('dns');
  const dir = lab.path;
  const slowDelayMs = options.slowDelayMs ?? 400;
  const extraZones = Object.keys(options.extraZones ?? {});
  for (const zone of extraZones) {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*\.test$/.test(zone) || zone === 'example.test') throw new LabError(`extraZones: "${zone}" is not a new zone below test.`);
  }
  const used = new Set<string>();
  const fresh = () => {
    for (;;) {
      const a = randomLoopback();
      if (!used.has(a)) {
        used.add(a);
        return a;
      }
    }
  };
  const addresses: DnsLabAddresses = { root: fresh(), tld: fresh(), primary: fresh(), secondary: fresh(), slow: fresh() };
  const { root, tld, primary, secondary, slow } = addresses;
  const removers: (() => Promise<void>)[] = [];
  const servers: ServerProcess[] = [];
  let relay: Socket | undefined;
  const stop = async () => {
    relay?.close();
    relay = undefined;
    await Promise.all(servers.map((s) => s.stop()));
    for (const remove of removers.splice(0)) await remove();
    await lab.cleanup();
  };

  try {
    for (const address of [root, tld, primary, secondary]) removers.push(await addLoopbackAlias(address));

    const tsigKeyFile = join(dir, 'tsig.key');
    const tsigKeyName = 'certsmith-lab-key';
    await writeFile(tsigKeyFile, await mustRun('tsig-keygen', ['-a', 'hmac-sha256', tsigKeyName]), { mode: 0o600 });
    const wrongTsigKeyFile = join(dir, 'wrong-tsig.key');
    await writeFile(wrongTsigKeyFile, await mustRun('tsig-keygen', ['-a', 'hmac-sha256', tsigKeyName]), { mode: 0o600 });
    const rndcKeyFile = join(dir, 'rndc.key');
    await mustRun('rndc-confgen', ['-a', '-c', rndcKeyFile, '-k', 'rndc-key']);
    await chmod(rndcKeyFile, 0o600);

    const zones: Record<string, string> = {
      'root.zone': `$TTL 300
.            IN SOA a.root. hostmaster.root. 1 300 60 86400 60
.            IN NS  a.root.
a.root.      IN A   ${root}
test.        IN NS  ns1.test.
ns1.test.    IN A   ${tld}
`,
      'test.zone': `$TTL 300
@                   IN SOA ns1.test. hostmaster.test. 1 300 60 86400 60
@                   IN NS  ns1.test.
ns1                 IN A   ${tld}
example             IN NS  ns1.example.test.
example             IN NS  ns2.example.test.
ns1.example         IN A   ${primary}
ns2.example         IN A   ${secondary}
files               IN NS  ns1.example.test.
files               IN NS  ns2.example.test.
; no glue: ns.hosts.example.test. lives below the example.test cut
glueless            IN NS  ns.hosts.example.test.
lame                IN NS  ns1.lame.test.
lame                IN NS  ns2.lame.test.
ns1.lame            IN A   ${secondary}
ns2.lame            IN A   ${primary}
dead                IN NS  ns1.dead.test.
ns1.dead            IN A   ${secondary}
big                 IN NS  ns1.example.test.
slow                IN NS  ns1.slow.test.
ns1.slow            IN A   ${slow}
loop                IN NS  ns.loop2.test.
bench               IN NS  ns1.example.test.
loop2               IN NS  ns.loop.test.
${extraZones.map((z) => `${z.slice(0, -'.test'.length)}  IN NS  ns1.example.test.`).join('\n')}
`,
      'example.test.zone': `$TTL 60
@          IN SOA ns1.example.test. hostmaster.example.test. 2024010100 300 60 86400 30
@          IN NS  ns1.example.test.
@          IN NS  ns2.example.test.
@          IN A   192.0.2.1
ns1        IN A   ${primary}
ns2        IN A   ${secondary}
ns.hosts   IN A   ${primary}
host       IN A   192.0.2.10
host       IN AAAA 2001:db8::10
v4only     IN A   192.0.2.11
www        IN CNAME host
alias1     IN CNAME alias2
alias2     IN CNAME www
cross      IN CNAME www.glueless.test.
loop-a     IN CNAME loop-b
loop-b     IN CNAME loop-a
xloop      IN CNAME xloop.glueless.test.
private    IN A   10.1.2.3
`,
      'files.test.zone': `$TTL 60
@       IN SOA ns1.example.test. hostmaster.files.test. (
              2024010100 ; serial
              300 60 86400 30 )
@       IN NS  ns1.example.test.
@       IN NS  ns2.example.test.
@       IN A   192.0.2.20
www     IN A   192.0.2.21
`,
      'glueless.test.zone': `$TTL 60
@       IN SOA ns.hosts.example.test. hostmaster.glueless.test. 1 300 60 86400 30
@       IN NS  ns.hosts.example.test.
www     IN A   192.0.2.30
xloop   IN CNAME xloop.example.test.
`,
      'lame.test.zone': `$TTL 60
@       IN SOA ns2.lame.test. hostmaster.lame.test. 1 300 60 86400 30
@       IN NS  ns1.lame.test.
@       IN NS  ns2.lame.test.
ns1     IN A   ${secondary}
ns2     IN A   ${primary}
www     IN A   192.0.2.40
`,
      'big.test.zone': `$TTL 60
@       IN SOA ns1.example.test. hostmaster.big.test. 1 300 60 86400 30
@       IN NS  ns1.example.test.
${Array.from({ length: BIG_TXT_RECORDS }, (_, i) => `@       IN TXT "${String(i).padStart(2, '0')}-${'x'.repeat(180)}"`).join('\n')}
www     IN A   192.0.2.50
`,
      'slow.test.zone': `$TTL 60
@       IN SOA ns1.slow.test. hostmaster.slow.test. 1 300 60 86400 30
@       IN NS  ns1.slow.test.
ns1     IN A   ${slow}
www     IN A   192.0.2.60
`,
      'bench.test.zone': `$TTL 60
@       IN SOA ns1.example.test. hostmaster.bench.test. 1 300 60 86400 30
@       IN NS  ns1.example.test.
*       IN A    192.0.2.80
*       IN AAAA 2001:db8::80
`,
      'loop.test.zone': `$TTL 60
@       IN SOA ns.loop2.test. hostmaster.loop.test. 1 300 60 86400 30
@       IN NS  ns.loop2.test.
www     IN A   192.0.2.70
`,
    };

    for (const zone of extraZones) zones[`${zone}.zone`] = options.extraZones![zone]!;

    const instance = async (name: string, address: string, zoneConf: string, zoneFiles: string[]) => {
      const idir = join(dir, name);
      await mkdir(idir, { recursive: true });
      for (const file of zoneFiles) await writeFile(join(idir, file), zones[file]!);
      const conf = join(idir, 'named.conf');
      await writeFile(
        conf,
        `include "${tsigKeyFile}";
include "${rndcKeyFile}";
options {
${namedOwnOptions(idir, address)}
  transfer-source ${address};
  notify-source ${address};
  recursion no;
  dnssec-validation no;
  allow-query { 127.0.0.0/8; };
  allow-transfer { 127.0.0.0/8; };
  notify no;
  notify-delay 0;
};
controls { inet ${address} port 953 allow { 127.0.0.0/8; } keys { "rndc-key"; }; };
${zoneConf}
`,
      );
      const check = await run('named-checkconf', ['-z', conf]);
      if (check.code !== 0) throw new LabError(`named-checkconf rejected the ${name} config:\n${check.stdout}${check.stderr}`);
      const server = new ServerProcess(`named (${name} on ${address})`, '/usr/sbin/named', ['-4', '-n', '1', '-g', '-c', conf]);
      servers.push(server);
      await server.waitUntil(() => portOpen(address, 53), 20_000);
      return server;
    };

    const primaryZones = (names: string[], extra: Record<string, string>) =>
      names.map((z) => `zone "${z}" { type primary; file "${z}.zone";${extra[z] ?? ''} };`).join('\n');
    await Promise.all([
      instance('root', root, 'zone "." { type primary; file "root.zone"; };', ['root.zone']),
      instance('tld', tld, 'zone "test" { type primary; file "test.zone"; };', ['test.zone']),
      instance(
        'primary',
        primary,
        primaryZones(['example.test', 'files.test', 'glueless.test', 'lame.test', 'big.test', 'slow.test', 'loop.test', 'bench.test', ...extraZones], {
          'example.test': ` allow-update { key "${tsigKeyName}"; }; notify explicit; also-notify { ${secondary}; };`,
          'files.test': ` notify explicit; also-notify { ${secondary}; };`,
          // BIND 9.18.28+ refuses to load an RRset of more than 100 records by default; extra zones may test huge ones.
          ...Object.fromEntries(extraZones.map((z) => [z, ' max-records-per-type 0;'])),
        }),
        [
          'example.test.zone',
          'files.test.zone',
          'glueless.test.zone',
          'lame.test.zone',
          'big.test.zone',
          'slow.test.zone',
          'loop.test.zone',
          'bench.test.zone',
          ...extraZones.map((z) => `${z}.zone`),
        ],
      ),
    ]);
    await instance(
      'secondary',
      secondary,
      ['example.test', 'files.test'].map((z) => `zone "${z}" { type secondary; primaries { ${primary}; }; file "${z}.zone"; };`).join('\n'),
      [],
    );

    relay = await startSlowRelay(slow, primary, slowDelayMs);

    const dig = async (server: string, name: string, type: string, extra: string[] = []) =>
      (
        await mustRun('dig', [
          `@${server}`,
          '-p',
          '53',
          '+norecurse',
          ...(extra.includes('+noshort') ? [] : ['+short']),
          '+time=2',
          '+tries=1',
          ...extra,
          name,
          type,
        ])
      ).trim();
    const serial = async (server: string, zone: string) => {
      const out = await run('dig', [`@${server}`, '-p', '53', '+norecurse', '+short', '+time=2', '+tries=1', zone, 'SOA']);
      const value = out.stdout.trim().split(/\s+/)[2];
      return value && /^\d+$/.test(value) ? Number(value) : null;
    };
    // The secondary is ready once it has transferred both zones.
    const deadline = Date.now() + 20_000;
    while ((await serial(secondary, 'example.test')) === null || (await serial(secondary, 'files.test')) === null) {
      if (Date.now() > deadline) throw new LabError(`the secondary did not load its zones:\n${servers.at(-1)?.log ?? ''}`);
      await sleep(100);
    }

    const rootHintsFile = join(dir, 'root.hints');
    await writeFile(rootHintsFile, `.        3600000  NS  a.root.\na.root.  3600000  A   ${root}\n`);
    return {
      dir,
      addresses,
      rootHintsFile,
      rootHints: [{ name: 'a.root', addresses: [root] }],
      tsigKeyFile,
      tsigKeyName,
      wrongTsigKeyFile,
      filesZoneFile: join(dir, 'primary', 'files.test.zone'),
      reloadCommand: ['/usr/sbin/rndc', '-k', rndcKeyFile, '-s', primary, '-p', '953', 'reload', '{zone}'],
      slowDelayMs,
      dig,
      serial,
      async updateExampleZone(lines) {
        await mustRun('nsupdate', ['-k', tsigKeyFile], { input: `server ${primary} 53\nzone example.test\n${lines.join('\n')}\nsend\n` });
        const wanted = await serial(primary, 'example.test');
        const until = Date.now() + 10_000;
        while ((await serial(secondary, 'example.test')) !== wanted) {
          if (Date.now() > until)
            throw new LabError(`the secondary did not transfer the update of example.test (serial ${wanted}):\n${servers.at(-1)?.log ?? ''}`);
          await sleep(100);
        }
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** A UDP relay that forwards to a real server and holds each answer for `delayMs`: the "slow server". */
function startSlowRelay(address: string, upstream: string, delayMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('error', (error) => reject(new LabError(`slow relay on ${address}:53: ${error.message}`)));
    socket.on('message', (msg, client) => {
      const out = createSocket('udp4');
      const timer = setTimeout(() => out.close(), delayMs + 5_000);
      out.on('error', () => undefined);
      out.on('message', (reply) => {
        setTimeout(() => {
          try {
            socket.send(reply, client.port, client.address, () => undefined);
          } catch {
            // the lab stopped while the answer was held
          }
          clearTimeout(timer);
          out.close();
        }, delayMs);
      });
      out.send(msg, 53, upstream);
    });
    socket.bind(53, address, () => resolve(socket));
  });
}

/** The options every lab named needs to run beside others: its own directory and files, one loopback address. */
export function namedOwnOptions(idir: string, address: string): string {
  return `  directory "${idir}";
  pid-file "${idir}/named.pid";
  session-keyfile "${idir}/session.key";
  managed-keys-directory "${idir}";
  listen-on port 53 { ${address}; };
  listen-on-v6 { none; };
  query-source address ${address};`;
}
