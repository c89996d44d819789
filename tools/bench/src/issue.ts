// Benchmark: certificates from Debian's Pebble (EAB, PEBBLE_VA_NOSLEEP=1, no faults) through @certsmith/acme's
// issuer, one after another, N names each, http-01 answered by an in-process responder on Pebble's httpPort.
// Prints wall time and CPU per certificate. The peers on this kind of machine (tools/testlab/README.md): certbot ~3.2 s and 0.9 s CPU
// a certificate (one process each), lego ~24 s (one authorization at a time, ~5 s polls).
//   npm run bench -w @certsmith/bench -- issue [--certs 20] [--names 3]
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AcmeIssuer } from '@certsmith/acme';
import { createBus, type Challenge, type DcvMethod, type Published } from '@certsmith/core';
import { randomLoopback, startPebble } from '@certsmith/testlab';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { formatLoad, LOAD_HEADER, loadAverage, type LoadSpan } from './report.js';

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { certs: { type: 'string', default: '20' }, names: { type: 'string', default: '3' } } });
  const certs = Number(values.certs);
  const perCert = Number(values.names);
  const address = randomLoopback();
  const served = new Map<string, string>();
  const server = createServer((req, res) => {
    const body = served.get(req.url?.split('/').pop() ?? '');
    res.writeHead(body ? 200 : 404).end(body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(5002, address, resolve));
  const pebble = await startPebble({ address, httpPort: 5002 });
  const dir = await mkdtemp(join(tmpdir(), 'certsmith-bench-issue-'));
  const responder: DcvMethod = {
    id: 'http-bench',
    answers: ['http-file'],
    publish: async (c: Challenge): Promise<Published> => {
      if (c.kind !== 'http-file') throw new Error('unsupported');
      const token = c.path.slice('/.well-known/acme-challenge/'.length);
      served.set(token, c.body);
      return { method: 'http-bench', challenge: c, where: token, handle: token };
    },
    check: async (p: Published) => ({ name: p.challenge.name, ok: true }),
    cleanup: async (p: Published) => void served.delete(p.handle as string),
  };
  try {
    const issuer = new AcmeIssuer({
      id: 'acme',
      directoryUrl: pebble.directoryUrl,
      caPem: pebble.tlsCaPem,
      eab: pebble.eab,
      issuerPatterns: [],
      accountKeyType: 'ES256',
      challengeTypes: ['http-01'],
      maxWaitMs: 60_000,
      precheck: 'http',
    });
    const csrs = new WebCryptoCsrFactory();
    const rows: { phase: string; certs: number; wallMs: number; cpuMs: number; load: LoadSpan }[] = [];
    const measure = async (phase: string, count: number) => {
      const loadAtStart = loadAverage();
      const cpu = process.cpuUsage();
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        const names = Array.from({ length: perCert }, (_, n) => `n${n}.c${rows.length}x${i}.bench.test`);
        const result = await issuer.issue(
          { target: { id: 'hostname', names, services: [], kind: 'hostname' }, names, csr: await csrs.create(names, { type: 'ecdsa-p256' }) },
          { bus: createBus(), dcv: [responder], clock: { now: () => new Date() }, signal: AbortSignal.timeout(120_000), stateDir: join(dir, 'state') },
        );
        if (result.status !== 'issued') throw new Error(`certificate ${i} ended ${result.status}`);
      }
      const used = process.cpuUsage(cpu);
      rows.push({
        phase,
        certs: count,
        wallMs: performance.now() - start,
        cpuMs: (used.user + used.system) / 1000,
        load: { start: loadAtStart, end: loadAverage() },
      });
    };
    await measure('first (new account)', 1);
    await measure('next', certs);
    process.stdout.write(`\nACME issuance against Pebble 2.4 (EAB, NOSLEEP), ${perCert} names per certificate, one at a time, in one process\n\n`);
    process.stdout.write(`| phase | certificates | wall ms/cert | CPU ms/cert | ${LOAD_HEADER} |\n| --- | ---: | ---: | ---: | --- |\n`);
    for (const r of rows)
      process.stdout.write(`| ${r.phase} | ${r.certs} | ${(r.wallMs / r.certs).toFixed(0)} | ${(r.cpuMs / r.certs).toFixed(0)} | ${formatLoad(r.load)} |\n`);
    process.stdout.write(`\nPebble orders created: ${pebble.orderCount()}\n`);
  } finally {
    await pebble.stop();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
