// Benchmark: renewal of N targets beside certbot and lego, on the same lab. Per tool and N: a fresh Pebble (EAB
// required, NOSLEEP, no nonce faults, no authorization reuse), a fresh state directory, nginx with one vhost and
// webroot per site on Pebble's httpPort, and pebble-challtestsrv answering every name with nginx's address. Each
// target is a hostname plus 3 names, validated by http-01. certsmith: one `check` with N site targets (installer-files); certbot and
// lego: one invocation per certificate, as an administrator's loop runs them. Every process runs under GNU time
// (user+sys and max RSS of the process it waits for, children included). A certificate counts only when its file
// exists, covers all four names and `openssl verify` chains it to that Pebble's root.
// Every row carries the 1-minute load average at the start and the end of its invocations.
//   npm run bench -- renewal [--n 10,50] [--tools certsmith,certbot,lego] [--runs K] (K interleaved runs, default 3, and
//   their medians) [--cli <path>] (another certsmith entry point, a bundled one say; its launcher line's node flags apply)
//   [--concurrency K] (certsmith's `concurrency`, targets worked on at once; its default when absent)
import { X509Certificate } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  CLI_PATH,
  cliNodeFlags,
  labDir,
  mustRun,
  randomLoopback,
  run,
  sleep,
  startDnsLab,
  startNginx,
  startPebble,
  type DnsLab,
  type Nginx,
  type Pebble,
} from '@certsmith/testlab';
import { formatLoad, formatMs, formatKb, LOAD_HEADER, loadAverage, median, writeResults, type LoadSpan } from './report.js';

export type Tool = 'certsmith' | 'certbot' | 'lego';
export const TOOLS: Tool[] = ['certsmith', 'certbot', 'lego'];

/** Where one target's certificate ended up: the leaf (first certificate of the file) and the chain to verify it with. */
export interface CertFiles {
  names: string[];
  leafFile: string;
  chainFile: string;
}

export interface RenewalResult {
  tool: Tool;
  n: number;
  /** Certificates that exist, cover their four names and chain to Pebble's root. */
  counted: number;
  /** Wall time of the whole run (all invocations), ms. */
  wallMs: number;
  /** user+sys of every invocation, ms. */
  cpuMs: number;
  /** The largest max RSS of any invocation, KiB. */
  maxRssKb: number;
  invocations: number;
  failures: string[];
  pebbleOrders: number;
  /** The 1-minute load average when the tool's first invocation started and its last one ended. */
  load: LoadSpan;
  /** certsmith's entry point, when it is not the workspace's apps/cli/dist/main.js. */
  cli?: string;
}

interface Measured {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
}

/** Runs a command under GNU time; its figures come through a file so that the command's stderr stays its own. */
export async function timed(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; timeFile: string },
): Promise<Measured> {
  const start = performance.now();
  const result = await run('/usr/bin/time', ['-f', '%U %S %M', '-o', options.timeFile, cmd, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    timeoutMs: options.timeoutMs ?? 600_000,
  });
  const wallMs = performance.now() - start;
  const line = (await readFile(options.timeFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
  const [user, sys, rss] = line.split(/\s+/).map(Number);
  return { ...result, wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000, maxRssKb: rss ?? 0 };
}

/** Names of target i: a hostname plus 3 names. */
export function targetNames(i: number, salt: string): string[] {
  const host = `t${i}-${salt}.example.test`;
  return [host, `www.${host}`, `mail.${host}`, `shop.${host}`];
}

/** Counts the certificates that exist, cover all their names and chain to the root. Returns the reasons for the others. */
export async function countCertificates(certs: CertFiles[], rootFile: string): Promise<{ counted: number; rejected: string[] }> {
  let counted = 0;
  const rejected: string[] = [];
  for (const cert of certs) {
    const pem = await readFile(cert.leafFile, 'utf8').catch(() => null);
    if (pem === null) {
      rejected.push(`${cert.leafFile}: missing`);
      continue;
    }
    let sans: string[];
    try {
      sans = (new X509Certificate(pem).subjectAltName ?? '')
        .split(', ')
        .filter((s) => s.startsWith('DNS:'))
        .map((s) => s.slice(4).toLowerCase());
    } catch (error) {
      rejected.push(`${cert.leafFile}: not a certificate (${(error as Error).message})`);
      continue;
    }
    const uncovered = cert.names.filter((n) => !sans.includes(n));
    if (uncovered.length > 0) {
      rejected.push(`${cert.leafFile}: does not cover ${uncovered.join(', ')}`);
      continue;
    }
    const verify = await run('openssl', ['verify', '-CAfile', rootFile, '-untrusted', cert.chainFile, cert.leafFile]);
    if (verify.code !== 0 || !verify.stdout.includes(': OK')) {
      rejected.push(`${cert.leafFile}: openssl verify failed: ${(verify.stderr + verify.stdout).trim().split('\n')[0]}`);
      continue;
    }
    counted++;
  }
  return { counted, rejected };
}

/** *.example.test A <address> on the primary, then waits until the secondary has it (the resolver may ask either). */
async function pointWildcardAt(dns: DnsLab, address: string): Promise<void> {
  await mustRun('nsupdate', ['-k', dns.tsigKeyFile], {
    input: `server ${dns.addresses.primary} 53\nzone example.test\nupdate add *.example.test. 60 IN A ${address}\nsend\n`,
  });
  const serial = await dns.serial(dns.addresses.primary, 'example.test');
  for (let tries = 0; (await dns.serial(dns.addresses.secondary, 'example.test')) !== serial; tries++) {
    if (tries > 100) throw new Error("the DNS lab's secondary did not transfer the wildcard");
    await sleep(100);
  }
}

export interface RenewalRun {
  result: RenewalResult;
  certs: CertFiles[];
  rootFile: string;
  dir: string;
  cleanup(): Promise<void>;
}

/** One tool, one N, on its own fresh lab. With keep, the files stay until cleanup() (the tests re-count them). */
export async function runRenewal(
  tool: Tool,
  n: number,
  options: { keep?: boolean; cpuProfDir?: string; cli?: string; concurrency?: number } = {},
): Promise<RenewalRun> {
  const cli = options.cli ?? CLI_PATH;
  const work = await labDir(`bench-renewal-${tool}-${n}`);
  const dir = work.path;
  let nginx: Nginx | undefined;
  let pebble: Pebble | undefined;
  let dns: DnsLab | undefined;
  try {
    const salt = Math.random().toString(36).slice(2, 8);
    // One vhost and docroot per site, as on a shared web server (a default server first, for anything else).
    const targets = Array.from({ length: n }, (_, i) => ({ id: `t${i}`, names: targetNames(i, salt), webroot: join(dir, 'www', `t${i}`) }));
    nginx = await startNginx({
      address: randomLoopback(),
      sites: [{ serverNames: ['_'], docroot: join(dir, 'www', 'default') }, ...targets.map((t) => ({ serverNames: t.names, docroot: t.webroot }))],
    });
    pebble = await startPebble({ address: randomLoopback(), httpPort: nginx.httpPort, defaultIPv4: nginx.address });
    const caFile = join(dir, 'pebble-tls-ca.pem');
    await copyFile(pebble.tlsCaFile, caFile);
    const rootFile = join(dir, 'pebble-root.pem');
    const root = await pebble.management('/roots/0');
    if (root.status !== 200) throw new Error(`Pebble's /roots/0 answered ${root.status}`);
    await writeFile(rootFile, root.body);
    const tally = { wallMs: 0, cpuMs: 0, maxRssKb: 0, invocations: 0, failures: [] as string[] };
    const add = (m: Measured, label: string) => {
      tally.cpuMs += m.cpuMs;
      tally.maxRssKb = Math.max(tally.maxRssKb, m.maxRssKb);
      tally.invocations++;
      if (m.code !== 0) tally.failures.push(`${label} exited ${m.code}: ${(m.stderr || m.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    };
    const timeFile = join(dir, 'time.txt');
    if (tool === 'certsmith') {
      // certsmith resolves from the root (its local DCV pre-check): the lab's BIND, where *.example.test points at nginx.
      // challtestsrv (Pebble's resolver) cannot serve as a root: its answers carry no AA flag.
      dns = await startDnsLab();
      await pointWildcardAt(dns, nginx.address);
    }
    let certs: CertFiles[];
    const loadAtStart = loadAverage();
    const start = performance.now();
    if (tool === 'certsmith') {
      const eabFile = join(dir, 'eab.key');
      await writeFile(eabFile, `${pebble.eab.hmacKey}\n`, { mode: 0o600 });
      const config = join(dir, 'certsmith.json');
      await writeFile(
        config,
        JSON.stringify(
          {
            hostname: `host-${salt}.example.test`,
            ...(options.concurrency ? { concurrency: options.concurrency } : {}),
            paths: { stateDir: './state', sslDir: './ssl' },
            inspection: { live: false },
            services: { cpanel: false, dovecot: false, exim: false, ftp: false },
            plugins: [
              { module: '@certsmith/installer-files' },
              {
                module: '@certsmith/dcv-http',
                options: { docroot: join(dir, 'www', 'default'), docroots: Object.fromEntries(targets.map((t) => [t.id, t.webroot])) },
              },
              {
                module: '@certsmith/issuer-acme',
                options: {
                  directoryUrl: pebble.directoryUrl,
                  caFile,
                  eab: { kid: pebble.eab.kid, keyFile: eabFile },
                  contact: ['hostmaster@example.test'],
                  issuerPatterns: ['Pebble'],
                },
              },
            ],
            issuers: ['acme'],
            server: { addresses: [nginx.address] },
            dns: { rootHints: dns!.rootHintsFile, port: 53 },
            targets: targets.map((t) => ({ id: t.id, names: t.names, services: ['files'] })),
          },
          null,
          2,
        ),
      );
      const prof = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
      const m = await timed(process.execPath, [...cliNodeFlags(cli), ...prof, cli, 'check', '--no-retry', '--config', config], { cwd: dir, timeFile });
      add(m, 'certsmith check');
      await writeFile(join(dir, 'certsmith.out'), m.stdout + m.stderr);
      // What went wrong stays readable after the lab is removed.
      if (m.code !== 0)
        tally.failures.push(
          ...(m.stdout + m.stderr)
            .split('\n')
            .filter((l) => /^\s*(Error|Warning)\b/.test(l))
            .map((l) => l.trim())
            .slice(0, 5),
        );
      certs = targets.map((t) => ({
        names: t.names,
        leafFile: join(dir, 'ssl', 'live', t.id, 'fullchain.pem'),
        chainFile: join(dir, 'ssl', 'live', t.id, 'fullchain.pem'),
      }));
    } else if (tool === 'certbot') {
      const base = ['--config-dir', join(dir, 'certbot', 'config'), '--work-dir', join(dir, 'certbot', 'work'), '--logs-dir', join(dir, 'certbot', 'logs')];
      for (const t of targets) {
        const m = await timed(
          'certbot',
          [
            'certonly',
            '--non-interactive',
            '--agree-tos',
            '--register-unsafely-without-email',
            '--no-eff-email',
            '--server',
            pebble.directoryUrl,
            '--eab-kid',
            pebble.eab.kid,
            `--eab-hmac-key=${pebble.eab.hmacKey}`,
            '--webroot',
            '-w',
            t.webroot,
            ...t.names.flatMap((name) => ['-d', name]),
            ...base,
          ],
          { env: { REQUESTS_CA_BUNDLE: caFile }, timeFile },
        );
        add(m, `certbot ${t.names[0]}`);
      }
      certs = targets.map((t) => ({
        names: t.names,
        leafFile: join(dir, 'certbot', 'config', 'live', t.names[0]!, 'fullchain.pem'),
        chainFile: join(dir, 'certbot', 'config', 'live', t.names[0]!, 'chain.pem'),
      }));
    } else {
      const path = join(dir, 'lego');
      for (const t of targets) {
        const m = await timed(
          'lego',
          [
            '--server',
            pebble.directoryUrl,
            '--email',
            'hostmaster@example.test',
            '--accept-tos',
            '--eab',
            '--kid',
            pebble.eab.kid,
            `--hmac=${pebble.eab.hmacKey}`,
            '--path',
            path,
            '--http',
            '--http.webroot',
            t.webroot,
            ...t.names.flatMap((name) => ['--domains', name]),
            'run',
          ],
          { env: { LEGO_CA_CERTIFICATES: caFile }, timeFile },
        );
        add(m, `lego ${t.names[0]}`);
      }
      certs = targets.map((t) => ({
        names: t.names,
        leafFile: join(path, 'certificates', `${t.names[0]}.crt`),
        chainFile: join(path, 'certificates', `${t.names[0]}.issuer.crt`),
      }));
    }
    tally.wallMs = performance.now() - start;
    const load = { start: loadAtStart, end: loadAverage() };
    const { counted, rejected } = await countCertificates(certs, rootFile);
    const result: RenewalResult = {
      tool,
      n,
      counted,
      wallMs: tally.wallMs,
      cpuMs: tally.cpuMs,
      maxRssKb: tally.maxRssKb,
      invocations: tally.invocations,
      failures: [...tally.failures, ...rejected].slice(0, 10),
      pebbleOrders: pebble.orderCount(),
      load,
      ...(tool === 'certsmith' && options.cli ? { cli: options.cli } : {}),
    };
    await pebble.stop();
    await nginx.stop();
    await dns?.stop();
    pebble = undefined;
    nginx = undefined;
    if (!options.keep) await work.cleanup();
    return { result, certs, rootFile, dir, cleanup: work.cleanup };
  } catch (error) {
    const log = pebble ? `\n--- pebble ---\n${pebble.log().slice(-4000)}` : '';
    await pebble?.stop();
    await nginx?.stop();
    await dns?.stop();
    await work.cleanup();
    throw new Error(`${tool} N=${n}: ${(error as Error).message}${log}`, { cause: error });
  }
}

/**
 * One row per run; with several runs of a tool at one N, a median row for it too (each figure's own median), and
 * the ratios are taken between medians: this VM's run-to-run spread is about ±15 %.
 */
export function renewalTable(results: RenewalResult[]): string {
  const lines = [
    `| tool | N | certificates counted | wall total | wall / cert | CPU total | CPU / cert | peak RSS | invocations | Pebble orders | ${LOAD_HEADER} |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const row = (r: RenewalResult, label: string, load: string) =>
    `| ${label} | ${r.n} | ${r.counted}/${r.n} | ${formatMs(r.wallMs)} | ${formatMs(r.wallMs / r.n)} | ${formatMs(r.cpuMs)} | ${formatMs(r.cpuMs / r.n)} | ${formatKb(r.maxRssKb)} | ${r.invocations} | ${r.pebbleOrders} | ${load} |`;
  for (const r of results) lines.push(row(r, r.tool, formatLoad(r.load)));
  const summaries = summarize(results);
  for (const s of summaries.filter((x) => x.runs > 1)) lines.push(row(s, `**${s.tool}, median of ${s.runs}**`, formatLoad(s.loads)));
  const ratios: string[] = [];
  for (const n of [...new Set(summaries.map((r) => r.n))]) {
    const mine = summaries.find((r) => r.tool === 'certsmith' && r.n === n);
    if (!mine) continue;
    for (const peer of summaries.filter((r) => r.tool !== 'certsmith' && r.n === n)) {
      ratios.push(
        `| ${n} | certsmith / ${peer.tool} | ${(mine.wallMs / peer.wallMs).toFixed(3)} (1/${(peer.wallMs / mine.wallMs).toFixed(1)}) | ${(mine.cpuMs / mine.n / (peer.cpuMs / peer.n)).toFixed(3)} | ${(mine.maxRssKb / peer.maxRssKb).toFixed(2)} | ${formatLoad([...mine.loads, ...peer.loads])} |`,
      );
    }
  }
  if (ratios.length > 0) {
    lines.push(
      '',
      `| N | ratio | wall | CPU / cert | peak RSS (whole certsmith run / one peer process) | ${LOAD_HEADER}, both tools |`,
      '| ---: | --- | ---: | ---: | ---: | --- |',
      ...ratios,
    );
  }
  return lines.join('\n');
}

/** Per tool and N: the median of each figure over its runs (the fewest certificates counted), and every run's load. */
export function summarize(results: RenewalResult[]): (RenewalResult & { runs: number; loads: LoadSpan[] })[] {
  const groups = new Map<string, RenewalResult[]>();
  for (const r of results) groups.set(`${r.tool} ${r.n}`, [...(groups.get(`${r.tool} ${r.n}`) ?? []), r]);
  return [...groups.values()].map((runs) => ({
    ...runs[0]!,
    counted: Math.min(...runs.map((r) => r.counted)),
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    maxRssKb: median(runs.map((r) => r.maxRssKb)),
    failures: runs.flatMap((r) => r.failures).slice(0, 10),
    runs: runs.length,
    loads: runs.map((r) => r.load),
  }));
}

export async function main(args: string[]): Promise<RenewalResult[]> {
  const { values } = parseArgs({
    args,
    options: {
      n: { type: 'string', default: '10,50' },
      tools: { type: 'string', default: TOOLS.join(',') },
      runs: { type: 'string', default: '3' },
      'cpu-prof': { type: 'string' },
      cli: { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const ns = String(values.n)
    .split(',')
    .map(Number)
    .filter((x) => x > 0);
  const tools = String(values.tools)
    .split(',')
    .filter((t): t is Tool => (TOOLS as string[]).includes(t));
  const runs = Math.max(1, Number(values.runs) || 1);
  const cli = values.cli ? resolve(values.cli) : undefined;
  const concurrency = values.concurrency ? Number(values.concurrency) : undefined;
  const results: RenewalResult[] = [];
  // Repetitions interleave the tools, so that a slow spell of the machine falls on all of them alike.
  for (const n of ns) {
    for (let rep = 0; rep < runs; rep++)
      for (const tool of tools) {
        process.stderr.write(`renewal: ${tool} N=${n}${runs > 1 ? ` (run ${rep + 1} of ${runs})` : ''} ...\n`);
        const { result } = await runRenewal(tool, n, { cpuProfDir: typeof values['cpu-prof'] === 'string' ? values['cpu-prof'] : undefined, cli, concurrency });
        process.stderr.write(
          `renewal: ${tool} N=${n}: ${result.counted}/${n} in ${formatMs(result.wallMs)}, CPU ${formatMs(result.cpuMs / n)}/cert, load ${formatLoad(result.load)}${result.failures.length ? `; ${result.failures.slice(0, 3).join('; ')}` : ''}\n`,
        );
        results.push(result);
      }
  }
  const entry = `${cli ? `; certsmith entry point: ${cli}` : ''}${concurrency ? `; certsmith concurrency ${concurrency}` : ''}`;
  const tables = `### Renewal of N targets (4 names each, http-01 via per-site nginx webroots, Pebble with EAB${entry})\n\n${renewalTable(results)}\n`;
  process.stdout.write(`\n${tables}`);
  await writeResults('renewal', results, tables);
  return results;
}
