// Benchmark: the healthy run at scale. `certsmith check` over N site targets (default 10,000) whose certificates are
// all valid, in the installer-files layout (<sslDir>/live/<id>/fullchain.pem + privkey.pem): no CA traffic, nothing to
// replace. Wall time, CPU and peak memory of the whole process (GNU time). Aim: under 10 s and 300 MB on 2 cores.
//   npm run bench -- healthy [--n 10000] [--runs 1] [--cpu-prof <dir>]
import { webcrypto } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_PATH, cliNodeFlags, labDir } from '@certsmith/testlab';
import { createSelfSigned } from '@certsmith/x509';
import { timed } from './renewal.js';
import { formatKb, formatMs, writeResults } from './report.js';

export interface HealthyResult {
  targets: number;
  exitCode: number;
  healthy: number;
  wallMs: number;
  cpuMs: number;
  maxRssKb: number;
}


/** Writes n targets' files (one shared key: the run reads and checks each pair, whatever key it is) and the config. */
export async function prepareHealthy(dir: string, n: number): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64').replace(/.{64}/g, '$&\n');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`.replace('\n\n', '\n');
  const now = new Date();
  const targets: { id: string; names: string[]; services: string[] }[] = [];
  const batch = 200;
  for (let start = 0; start < n; start += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - start) }, async (_, k) => {
      const i = start + k;
      const host = `site${i}.healthy.test`;
      const names = [host, `www.${host}`, `mail.${host}`, `shop.${host}`];
      const pem = await createSelfSigned({ names, keys, spec: { type: 'ecdsa-p256' }, validityDays: 80, now });
      const live = join(dir, 'ssl', 'live', `t${i}`);
      await mkdir(live, { recursive: true });
      await Promise.all([
        writeFile(join(live, 'fullchain.pem'), pem), writeFile(join(live, 'cert.pem'), pem), writeFile(join(live, 'chain.pem'), ''),
        writeFile(join(live, 'privkey.pem'), keyPem, { mode: 0o600 }),
      ]);
      targets[i] = { id: `t${i}`, names, services: ['files'] };
    }));
  }
  const config = join(dir, 'healthy.json');
  await writeFile(config, JSON.stringify({
    hostname: 'host.healthy.test',
    paths: { stateDir: './state', sslDir: './ssl' },
    inspection: { live: false },
    services: { cpanel: false, dovecot: false, exim: false, ftp: false },
    plugins: [{ module: '@certsmith/installer-files' }],
    targets,
  }));
  return config;
}

export async function main(args: string[]): Promise<HealthyResult[]> {
  const { values } = parseArgs({ args, options: { n: { type: 'string', default: '10000' }, runs: { type: 'string', default: '1' }, 'cpu-prof': { type: 'string' } } });
  const n = Number(values.n);
  const dir = await labDir('bench-healthy');
  try {
    process.stderr.write(`healthy: writing ${n} targets' certificates ...\n`);
    const config = await prepareHealthy(dir.path, n);
    const results: HealthyResult[] = [];
    for (let r = 0; r < Number(values.runs); r++) {
      const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
      const m = await timed(process.execPath, [...cliNodeFlags(), ...prof, CLI_PATH, 'check', '--no-retry', '--json', '--config', config], { cwd: dir.path, timeFile: join(dir.path, 'time.txt') });
      let healthy = 0;
      try {
        const report = JSON.parse(m.stdout) as { targets: { result: string }[] };
        healthy = report.targets.filter((t) => t.result === 'healthy').length - 1; // the hostname target has no service here
      } catch {
        process.stderr.write(`healthy: the run printed no JSON report (exit ${m.code}): ${m.stderr.slice(0, 2000)}\n`);
      }
      results.push({ targets: n, exitCode: m.code, healthy, wallMs: m.wallMs, cpuMs: m.cpuMs, maxRssKb: m.maxRssKb });
    }
    process.stdout.write(`\n### Healthy run at scale (aim: under 10 s and 300 MB)\n\n| site targets | healthy | exit | wall | CPU (user+sys) | peak RSS |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n`);
    for (const r of results) process.stdout.write(`| ${r.targets} | ${r.healthy} | ${r.exitCode} | ${formatMs(r.wallMs)} | ${formatMs(r.cpuMs)} | ${formatKb(r.maxRssKb)} |\n`);
    await writeResults('healthy', results);
    return results;
  } finally {
    await dir.cleanup();
  }
}
