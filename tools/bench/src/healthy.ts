// Benchmark: the healthy run at scale. `certsmith check` over N site targets (default 10,000) whose certificates are
// all valid, in the installer-files layout (<sslDir>/live/<id>/fullchain.pem + privkey.pem): no CA traffic, nothing to
// replace. Wall time, CPU and peak memory of the whole process (GNU time). Aim: under 10 s and 300 MB on 2 cores.
// --chain: each leaf signed by one intermediate (in fullchain.pem) under a root the run trusts through SSL_CERT_FILE,
// as a server full of CA-issued certificates is; the default is self-signed leaves (the first measurements' set).
// Every row carries the 1-minute load average at the start and end of its run; with several runs, a median row.
//   npm run bench -- healthy [--n 10000] [--runs 3] [--chain] [--cpu-prof <dir>] [--cli <path>]
import { webcrypto } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_PATH, cliNodeFlags, labDir } from '@certsmith/testlab';
import { createSelfSigned } from '@certsmith/x509';
import * as x509 from '@peculiar/x509';
import { timed } from './renewal.js';
import { formatKb, formatLoad, formatMs, LOAD_HEADER, median, withLoad, writeResults, type LoadSpan } from './report.js';

export interface HealthyResult {
  targets: number;
  /** 'self-signed' leaves, or 'chain': leaf + intermediate under a trusted root. */
  kind: 'self-signed' | 'chain';
  exitCode: number;
  healthy: number;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
  load: LoadSpan;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A root and an intermediate under it (the root goes into `rootFile`), and a signer of leaves by that intermediate. */
async function benchCa(rootFile: string): Promise<(names: string[], keys: webcrypto.CryptoKeyPair, serial: number, now: Date) => Promise<string>> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const generate = async () => (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const [rootKeys, intermediateKeys] = [await generate(), await generate()];
  const now = Date.now();
  const caUsage = new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=certsmith bench root',
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 3650 * 86_400_000),
    keys: rootKeys,
    signingAlgorithm: EC,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), caUsage, await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey)],
  });
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=certsmith bench intermediate',
    issuer: root.subject,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 1000 * 86_400_000),
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      caUsage,
      await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  await writeFile(rootFile, `${root.toString('pem')}\n`);
  const intermediatePem = `${intermediate.toString('pem')}\n`;
  return async (names, keys, serial, issuedAt) => {
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: (0x10000 + serial).toString(16),
      subject: `CN=${names[0]}`,
      issuer: intermediate.subject,
      notBefore: new Date(issuedAt.getTime() - 60_000),
      notAfter: new Date(issuedAt.getTime() + 80 * 86_400_000),
      publicKey: keys.publicKey,
      signingKey: intermediateKeys.privateKey,
      signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
        await x509.AuthorityKeyIdentifierExtension.create(intermediateKeys.publicKey),
      ],
    });
    return `${leaf.toString('pem')}\n${intermediatePem}`;
  };
}

/** The root a `chain` set's run must trust (SSL_CERT_FILE), beside the config. */
export function benchRootFile(dir: string): string {
  return join(dir, 'bench-root.pem');
}

/** The names of the healthy set's target i: a site and three names under it. */
function healthyNames(i: number): string[] {
  const host = `site${i}.healthy.test`;
  return [host, `www.${host}`, `mail.${host}`, `shop.${host}`];
}

async function pkcs8Pem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
    .toString('base64')
    .replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`.replace('\n\n', '\n');
}

/**
 * Writes n targets' files (one shared key: the run reads and checks each pair, whatever key it is) and the config.
 * `chain`: leaves signed by an intermediate (leaf + intermediate in fullchain.pem), root in benchRootFile(dir).
 */
export async function prepareHealthy(dir: string, n: number, kind: HealthyResult['kind'] = 'self-signed'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const signByCa = kind === 'chain' ? await benchCa(benchRootFile(dir)) : null;
  const keyPem = await pkcs8Pem(keys);
  const now = new Date();
  const targets: { id: string; names: string[]; services: string[] }[] = [];
  const batch = 200;
  for (let start = 0; start < n; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - start) }, async (_, k) => {
        const i = start + k;
        const names = healthyNames(i);
        const pem = signByCa
          ? await signByCa(names, keys, i, now)
          : await createSelfSigned({ names, keys, spec: { type: 'ecdsa-p256' }, validityDays: 80, now });
        const live = join(dir, 'ssl', 'live', `t${i}`);
        await mkdir(live, { recursive: true });
        await Promise.all([
          writeFile(join(live, 'fullchain.pem'), pem),
          writeFile(join(live, 'cert.pem'), pem),
          writeFile(join(live, 'chain.pem'), ''),
          writeFile(join(live, 'privkey.pem'), keyPem, { mode: 0o600 }),
        ]);
        targets[i] = { id: `t${i}`, names, services: ['files'] };
      }),
    );
  }
  const config = join(dir, 'healthy.json');
  await writeFile(
    config,
    JSON.stringify({
      hostname: 'host.healthy.test',
      paths: { stateDir: './state', sslDir: './ssl' },
      inspection: { live: false },
      services: { cpanel: false, dovecot: false, exim: false, ftp: false },
      plugins: [{ module: '@certsmith/installer-files' }],
      targets,
    }),
  );
  return config;
}

/** A web host's set (prepareWebHost): its config and the certificate its web server must serve. */
export interface WebHostSet {
  config: string;
  /** The root the run must trust (SSL_CERT_FILE). */
  rootFile: string;
  certFile: string;
  keyFile: string;
  /** Every name the certificate covers: the host's and every site's. */
  names: string[];
  /** The targets whose inspection must show a live handshake: the hostname target and every site. */
  targetIds: string[];
}

/**
 * The healthy set's n sites on a web host whose live inspection is on: every target (the hostname's and each site's)
 * is served by the `web` service at `at` (nginx), and the run handshakes with it under each target's first name and
 * resolves that name from `at.rootHints` (it must point at `at.address`, this server's own address). The web
 * service has one certificate file (the hostname vhost's) for every target that names it, so the sites share one
 * certificate: leaf + intermediate from the bench CA, covering every name.
 */
export async function prepareWebHost(dir: string, n: number, at: { hostname: string; address: string; port: number; rootHints: string }): Promise<WebHostSet> {
  await mkdir(join(dir, 'web'), { recursive: true });
  const rootFile = benchRootFile(dir);
  const signByCa = await benchCa(rootFile);
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const targets = Array.from({ length: n }, (_, i) => ({ id: `t${i}`, names: healthyNames(i), services: ['web'] }));
  const names = [at.hostname, ...targets.flatMap((t) => t.names)];
  const [certFile, keyFile] = [join(dir, 'web', 'sites.crt'), join(dir, 'web', 'sites.key')];
  await writeFile(certFile, await signByCa(names, keys, 0, new Date()));
  await writeFile(keyFile, await pkcs8Pem(keys), { mode: 0o600 });
  const config = join(dir, 'web-host.json');
  await writeFile(
    config,
    JSON.stringify({
      hostname: at.hostname,
      paths: { stateDir: './state', sslDir: './ssl' },
      server: { addresses: [at.address] },
      dns: { rootHints: at.rootHints },
      inspection: { live: true },
      services: {
        cpanel: false,
        dovecot: false,
        exim: false,
        ftp: false,
        web: { certFile, keyFile, endpoints: [{ host: at.address, port: at.port }], reload: false },
      },
      plugins: [{ module: '@certsmith/installer-web' }],
      targets,
    }),
  );
  return { config, rootFile, certFile, keyFile, names, targetIds: ['hostname', ...targets.map((t) => t.id)] };
}

export async function main(args: string[]): Promise<HealthyResult[]> {
  const { values } = parseArgs({
    args,
    options: {
      n: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '3' },
      chain: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      cli: { type: 'string' },
    },
  });
  const n = Number(values.n);
  const kind: HealthyResult['kind'] = values.chain ? 'chain' : 'self-signed';
  const cli = values.cli ? resolve(values.cli) : CLI_PATH;
  const dir = await labDir('bench-healthy');
  try {
    process.stderr.write(`healthy: writing ${n} targets' ${kind} certificates ...\n`);
    const config = await prepareHealthy(dir.path, n, kind);
    const results: HealthyResult[] = [];
    for (let r = 0; r < Number(values.runs); r++) {
      const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
      const env = kind === 'chain' ? { SSL_CERT_FILE: benchRootFile(dir.path) } : {};
      const { value: m, load } = await withLoad(() =>
        timed(process.execPath, [...cliNodeFlags(cli), ...prof, cli, 'check', '--no-retry', '--json', '--config', config], {
          cwd: dir.path,
          env,
          timeFile: join(dir.path, 'time.txt'),
        }),
      );
      let healthy = 0;
      try {
        const report = JSON.parse(m.stdout) as { targets: { result: string }[] };
        healthy = report.targets.filter((t) => t.result === 'healthy').length - 1; // the hostname target has no service here
      } catch {
        process.stderr.write(`healthy: the run printed no JSON report (exit ${m.code}): ${m.stderr.slice(0, 2000)}\n`);
      }
      results.push({ targets: n, kind, exitCode: m.code, healthy, wallMs: m.wallMs, cpuMs: m.cpuMs, maxRssKb: m.maxRssKb, load });
      process.stderr.write(`healthy: run ${r + 1}: ${formatMs(m.wallMs)} wall, load ${formatLoad(load)}\n`);
    }
    const tables = healthyTable(results, values.cli ? cli : undefined);
    process.stdout.write(`\n${tables}`);
    await writeResults('healthy', results, tables);
    return results;
  } finally {
    await dir.cleanup();
  }
}

/** The table of the runs, and with several a median row (each figure's own median; the lowest healthy count). */
export function healthyTable(results: HealthyResult[], cli?: string): string {
  const row = (r: Omit<HealthyResult, 'load'>, label: string, load: string) =>
    `| ${label} | ${r.targets} | ${r.kind} | ${r.healthy} | ${r.exitCode} | ${formatMs(r.wallMs)} | ${formatMs(r.cpuMs)} | ${formatKb(r.maxRssKb)} | ${load} |`;
  const lines = [
    `### Healthy run at scale (aim: under 10 s and 300 MB${cli ? `; certsmith entry point: ${cli}` : ''})`,
    '',
    `| run | site targets | certificates | healthy | exit | wall | CPU (user+sys) | peak RSS | ${LOAD_HEADER} |`,
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map((r, i) => row(r, String(i + 1), formatLoad(r.load))),
  ];
  if (results.length > 1) {
    const of = (pick: (r: HealthyResult) => number) => median(results.map(pick));
    const medianRun = {
      ...results[0]!,
      healthy: Math.min(...results.map((r) => r.healthy)),
      exitCode: Math.max(...results.map((r) => r.exitCode)),
      wallMs: of((r) => r.wallMs),
      cpuMs: of((r) => r.cpuMs),
      maxRssKb: of((r) => r.maxRssKb),
    };
    lines.push(row(medianRun, `**median of ${results.length}**`, formatLoad(results.map((r) => r.load))));
  }
  return `${lines.join('\n')}\n`;
}
