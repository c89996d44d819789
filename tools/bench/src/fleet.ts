// Benchmark: a fleet on one NATS JetStream (Debian's nats-server on loopback). Part 1: H simulated hosts (default 100)
// of T targets each (default 10) report their status through @certsmith/fleet-nats, then `certsmith fleet status`
// reads them all (aim: under 1 s). Part 2: what NATS adds to one host's run: `certsmith check` over the healthy
// fixture alone and with the fleet plugin, CPU of each (aim: the fleet's share under 5 %), in the two runs a host in a
// fleet makes: one with nothing new (the fleet has its status: nothing is sent) and one that reports (its heartbeat is
// due: the record of the last report is made 13 hours old before it). Medians over runs, each with the 1-minute load average.
// Two hosts, measured taking turns: the files host (the healthy fixture: self-signed files, no live inspection, the
// cheapest run there is) and a web host (the same sites' names, a certificate from the bench CA, served by nginx on
// loopback; live inspection on: each target's name resolved from the lab's BIND root and its TLS handshake made).
//   npm run bench -- fleet [--hosts 100] [--targets 10] [--runs 5] [--cli <path>]
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RunReport, StatusReport, TargetStatus } from '@certsmith/core';
import { HEARTBEAT_MS, NatsFleet, settingsOf } from '@certsmith/fleet-nats';
import { CLI_PATH, cliNodeFlags, labDir, randomLoopback, startDnsLab, startNats, startNginx, type Nats } from '@certsmith/testlab';
import { prepareHealthy, prepareWebHost } from './healthy.js';
import { timed } from './renewal.js';
import { formatKb, formatMs, loadAverage, writeResults } from './report.js';

interface Figure {
  what: string;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  load: number;
}

const DAY = 86_400_000;

/**
 * Makes the record of the host's last acknowledged report `ms` older, as the heartbeat finds it when due; the first
 * time (no record yet) the run reports anyway.
 */
async function ageRecord(file: string, ms: number): Promise<void> {
  const record = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as { reportedAt: string } | null;
  if (!record) return;
  await writeFile(file, JSON.stringify({ ...record, reportedAt: new Date(Date.parse(record.reportedAt) - ms).toISOString() }));
}

/** One host's status document: T targets of one service each; every tenth target due, every fiftieth pending. */
function statusOf(host: string, targets: number, now: Date): StatusReport {
  const list: TargetStatus[] = Array.from({ length: targets }, (_, i) => {
    const daysLeft = i % 10 === 0 ? 12 : 60;
    const notAfter = new Date(now.getTime() + daysLeft * DAY).toISOString();
    return {
      target: `t${i}`,
      names: [`site${i}.${host}`, `www.site${i}.${host}`],
      services: [
        {
          service: 'files',
          file: `/etc/ssl/live/t${i}/fullchain.pem`,
          certificate: {
            subject: '',
            issuer: 'Lab CA',
            serial: `${i}`,
            notBefore: new Date(now.getTime() - 30 * DAY).toISOString(),
            notAfter,
            names: [`site${i}.${host}`],
            selfSigned: false,
          },
          profile: 'classic',
          daysLeft,
          renewal: { due: daysLeft < 30, rule: 'lifetime', dueAt: null, reason: daysLeft < 30 ? 'a third of its lifetime left' : 'not due' },
          missingNames: [],
        },
      ],
      pending:
        i % 50 === 0
          ? [{ issuer: 'acme', order: `https://ca/order/${i}`, names: [`site${i}.${host}`], createdAt: now.toISOString(), waitedSeconds: 3600, heldBy: '' }]
          : [],
      lastRun: null,
    };
  });
  return { hostname: host, config: '/etc/certsmith/config.json', now: now.toISOString(), lastRun: null, targets: list };
}

const EMPTY_RUN: RunReport = { hostname: '', startedAt: '', finishedAt: '', dryRun: false, exitCode: 0, targets: [] };

/** Every simulated host reports its status through the plugin, as its run's end would. */
async function reportHosts(nats: Nats, dir: string, hosts: number, targets: number): Promise<void> {
  const now = new Date();
  for (let h = 0; h < hosts; h++) {
    const hostname = `host${h}.fleet.test`;
    const config = { file: join(dir, 'fleet.json'), hostname, paths: { stateDir: join(dir, `state-${h}`), sslDir: dir, logDir: dir } };
    const fleet = new NatsFleet(settingsOf({ servers: [nats.url], maxWaitMs: 10_000 }, config), { clock: { now: () => now } });
    const outcome = await fleet.publish(statusOf(hostname, targets, now), EMPTY_RUN, AbortSignal.timeout(30_000));
    if (outcome.warnings?.length) throw new Error(`fleet: host ${hostname} could not report: ${outcome.warnings.join('; ')}`);
  }
}

/** The preload that writes a measured process's own CPU time at exit, in microseconds (GNU time has 10 ms steps). */
const CPU_AT_EXIT = fileURLToPath(new URL('../cpu-at-exit.mjs', import.meta.url));

/** One run of the CLI; `says` is what its output must show (that the run did what its row claims). */
async function measure(cli: string, what: string, args: string[], dir: string, says?: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Figure> {
  const load = loadAverage();
  const cpuFile = join(dir, 'cpu.txt');
  await rm(cpuFile, { force: true });
  const m = await timed(process.execPath, ['--import', CPU_AT_EXIT, ...cliNodeFlags(cli), cli, ...args], {
    cwd: dir,
    timeFile: join(dir, 'time.txt'),
    env: { ...env, CERTSMITH_BENCH_CPU_FILE: cpuFile },
  });
  if (m.code !== 0 && m.code !== 1) throw new Error(`fleet: ${what} exited ${m.code}: ${m.stderr.slice(0, 2000)}`);
  if (says && !says.test(m.stdout)) throw new Error(`fleet: ${what} did not say ${says}: ${m.stdout.slice(-2000)}`);
  const cpuUs = Number((await readFile(cpuFile, 'utf8')).trim());
  if (!Number.isFinite(cpuUs) || cpuUs <= 0) throw new Error(`fleet: ${what}: no CPU time in ${cpuFile}`);
  return { what, wallMs: m.wallMs, cpuMs: cpuUs / 1000, maxRssKb: m.maxRssKb, load };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function medianOf(figures: Figure[]): Figure {
  return {
    what: figures[0]!.what,
    wallMs: median(figures.map((f) => f.wallMs)),
    cpuMs: median(figures.map((f) => f.cpuMs)),
    maxRssKb: median(figures.map((f) => f.maxRssKb)),
    load: median(figures.map((f) => f.load)),
  };
}

/** One measured host: its config alone and in the fleet, what its runs need, and what proves a run did its work. */
interface Host {
  label: string;
  dir: string;
  alone: string;
  inFleet: string;
  /** The fleet plugin's record of the last acknowledged report, in the host's state directory. */
  record: string;
  env: NodeJS.ProcessEnv;
  /** Throws unless the run whose event log is new since `before` did what the row claims. */
  verify?: (what: string, before: Set<string>) => Promise<void>;
  logDir: string;
}

/** The config `alone` with the fleet plugin added, beside it. */
async function inTheFleet(alone: string, nats: Nats): Promise<string> {
  const inFleet = join(alone, '..', 'in-fleet.json');
  const config = JSON.parse(await readFile(alone, 'utf8')) as { plugins: unknown[] };
  await writeFile(inFleet, JSON.stringify({ ...config, plugins: [...config.plugins, { module: '@certsmith/fleet-nats', options: { servers: [nats.url] } }] }));
  return inFleet;
}

/** The files host: the healthy fixture (self-signed files, no live inspection), the first rows' host. */
async function prepareFilesHost(dir: string, targets: number, nats: Nats): Promise<Host> {
  const alone = await prepareHealthy(dir, targets);
  const state = join(dir, 'state');
  return { label: '', dir, alone, inFleet: await inTheFleet(alone, nats), record: join(state, 'fleet-report.json'), env: {}, logDir: join(state, 'logs') };
}

/**
 * The web host: the healthy set's sites served by nginx on a loopback address with one certificate from the bench CA,
 * their names resolved by the lab's BIND hierarchy (a wildcard under healthy.test to that address), live inspection on.
 */
async function startWebHost(dir: string, targets: number, nats: Nats): Promise<{ host: Host; stop: () => Promise<void> }> {
  const address = randomLoopback();
  const zone = `$TTL 300\n@ IN SOA ns1.example.test. hostmaster.healthy.test. 1 300 60 86400 60\n@ IN NS ns1.example.test.\n* IN A ${address}\n`;
  const dns = await startDnsLab({ extraZones: { 'healthy.test': zone } });
  try {
    const set = await prepareWebHost(dir, targets, { hostname: 'web.healthy.test', address, port: 443, rootHints: dns.rootHintsFile });
    const nginx = await startNginx({
      address,
      tlsPort: 443,
      sites: [{ serverNames: set.names, docroot: join(dir, 'docroot'), tls: { certFile: set.certFile, keyFile: set.keyFile } }],
    });
    const state = join(dir, 'state');
    const logDir = join(state, 'logs');
    const host: Host = {
      label: 'web host: ',
      dir,
      alone: set.config,
      inFleet: await inTheFleet(set.config, nats),
      record: join(state, 'fleet-report.json'),
      env: { SSL_CERT_FILE: set.rootFile },
      logDir,
      verify: (what, before) => assertLiveInspected(what, logDir, before, set.targetIds),
    };
    return { host, stop: async () => (await nginx.stop(), await dns.stop()) };
  } catch (error) {
    await dns.stop();
    throw error;
  }
}

/** One `certsmith check` on a host; its event log must show what the host's rows claim. */
async function checkOn(cli: string, host: Host, what: string, config: string, says?: RegExp): Promise<Figure> {
  const before = new Set(await readdir(host.logDir).catch(() => []));
  const figure = await measure(cli, what, ['check', '--no-retry', '--config', config], host.dir, says, host.env);
  await host.verify?.(what, before);
  return figure;
}

interface LoggedInspection {
  type: string;
  event: { target: string; service: string; live: { ok: boolean }[]; status: string; defects: { code: string; severity: string }[] };
}

/**
 * The run's event log (the one file new since `before`) must show, for every target, the web service inspected live:
 * a handshake that saw the files' certificate (else STALE_LIVE), its name resolved (else HOSTNAME_*), nothing to report.
 */
async function assertLiveInspected(what: string, logDir: string, before: Set<string>, targetIds: string[]): Promise<void> {
  const fresh = (await readdir(logDir)).filter((f) => !before.has(f));
  if (fresh.length !== 1) throw new Error(`fleet: ${what}: expected one new event log in ${logDir}, found ${fresh.length}`);
  const lines = (await readFile(join(logDir, fresh[0]!), 'utf8')).split('\n').filter(Boolean);
  const inspections = lines.map((l) => JSON.parse(l) as LoggedInspection).filter((r) => r.type === 'inspect' && r.event.service === 'web');
  const problems = targetIds.flatMap((id) => {
    const found = inspections.find((r) => r.event.target === id)?.event;
    if (!found) return [`${id}: no inspection of its web service`];
    const said = found.defects.filter((d) => d.severity !== 'info').map((d) => d.code);
    if (found.live.length === 0 || !found.live.every((o) => o.ok)) return [`${id}: no live handshake (${JSON.stringify(found.live)})`];
    return found.status === 'OK' && said.length === 0 ? [] : [`${id}: ${found.status} ${said.join(', ')}`];
  });
  if (problems.length > 0) throw new Error(`fleet: ${what}: the run did not inspect every target live: ${problems.join('; ')}`);
}

export async function main(args: string[]): Promise<Figure[]> {
  const { values } = parseArgs({
    args,
    options: {
      hosts: { type: 'string', default: '100' },
      targets: { type: 'string', default: '10' },
      runs: { type: 'string', default: '5' },
      cli: { type: 'string', default: CLI_PATH },
    },
  });
  const cli = values.cli;
  const [hosts, targets, runs] = [Number(values.hosts), Number(values.targets), Number(values.runs)];
  const dir = await labDir('bench-fleet');
  const nats = await startNats({ jetstream: true });
  const stops: (() => Promise<void>)[] = [];
  try {
    process.stderr.write(`fleet: ${hosts} hosts of ${targets} targets report their status ...\n`);
    await reportHosts(nats, dir.path, hosts, targets);
    const viewer = join(dir.path, 'viewer.json');
    await writeFile(
      viewer,
      JSON.stringify({ hostname: 'viewer.fleet.test', plugins: [{ module: '@certsmith/fleet-nats', options: { servers: [nats.url] } }] }),
    );
    const status: Figure[] = [];
    for (let r = 0; r < runs; r++) status.push(await measure(cli, 'fleet status --json', ['fleet', 'status', '--json', '--config', viewer], dir.path));

    process.stderr.write(`fleet: one host's check over ${targets} targets, alone and in the fleet: a files host and a web host ...\n`);
    const filesHost = await prepareFilesHost(join(dir.path, 'host'), targets, nats);
    const { host: webHost, stop: stopWebHost } = await startWebHost(join(dir.path, 'web-host'), targets, nats);
    stops.push(stopWebHost);
    const checks: Figure[][] = [[], [], [], [], [], []];
    // Taking turns, host after host, so that a change of load falls on all six.
    for (let r = 0; r < runs; r++) {
      for (const [h, host] of [filesHost, webHost].entries()) {
        const check = (what: string, config: string, says?: RegExp) => checkOn(cli, host, `${host.label}${what}`, config, says);
        checks[h * 3]!.push(await check('check, alone', host.alone));
        await ageRecord(host.record, HEARTBEAT_MS + 3_600_000);
        checks[h * 3 + 1]!.push(await check('check, in the fleet, reporting', host.inFleet, /Status \(nats\): \d+ messages sent\n/));
        checks[h * 3 + 2]!.push(await check('check, in the fleet, nothing new', host.inFleet, /Status \(nats\): nothing new since/));
      }
    }
    const figures = [medianOf(status), ...checks.map(medianOf)];
    print(figures, { hosts, targets, runs });
    await writeResults('fleet', figures);
    return figures;
  } finally {
    for (const stop of stops) await stop();
    await nats.stop();
    await dir.cleanup();
  }
}

function print(figures: Figure[], at: { hosts: number; targets: number; runs: number }): void {
  const [status, ...checks] = figures as [Figure, ...Figure[]];
  // NATS's share of a host's run: in the fleet against the same host alone, for the quiet run and the one that reports.
  const shares = (h: number) => {
    const [alone, reporting, quiet] = checks.slice(h * 3, h * 3 + 3) as [Figure, Figure, Figure];
    const share = (inFleet: Figure) => `${(((inFleet.cpuMs - alone.cpuMs) / inFleet.cpuMs) * 100).toFixed(1)} %`;
    return `${share(quiet)} with nothing new, ${share(reporting)} in a run that reports`;
  };
  process.stdout.write(
    `\n### The fleet on one NATS: ${at.hosts} hosts of ${at.targets} targets (medians of ${at.runs} runs)\n\n` +
      `| what | wall | CPU (user+sys) | peak RSS | load (1 min) |\n| --- | ---: | ---: | ---: | ---: |\n` +
      figures.map((f) => `| ${f.what} | ${formatMs(f.wallMs)} | ${formatMs(f.cpuMs)} | ${formatKb(f.maxRssKb)} | ${f.load.toFixed(2)} |`).join('\n') +
      `\n\nfleet status over ${at.hosts} hosts: ${formatMs(status.wallMs)} (aim under 1 s); NATS's share of a run's CPU (aim under 5 %): ` +
      `${shares(0)}; on the web host (live TLS), ${shares(1)}\n`,
  );
}
