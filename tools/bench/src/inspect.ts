// Benchmark: inspect N certificate files (parse + every offline rule: expiry, weak signature and key, SAN, EKU,
// self-signed, names, key match, chain to the trust store, chain expiry) and, in the same run over the same files,
// the raw `crypto.X509Certificate` parse rate as the ceiling. Aim: at least half the ceiling.
//   npm run bench -w @certsmith/bench -- inspect [--files 10000] [--rounds 3]
import { X509Certificate, webcrypto } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatLoad, LOAD_HEADER, withLoad, type LoadSpan } from './report.js';
import type { InspectContext, ServiceMaterial } from '@certsmith/core';
// First: @certsmith/x509 loads the Reflect polyfill that @peculiar/x509 needs.
import { CertificateInspector, TrustStore } from '@certsmith/x509';
import * as px from '@peculiar/x509';

px.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

interface Fixture {
  dir: string;
  certFiles: string[];
  keyFiles: string[];
  rootPem: string;
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

/** A root, an intermediate and N leaf files (leaf + intermediate, as services hold them), each with its own key file. */
async function makeFixture(count: number): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'certsmith-bench-inspect-'));
  mkdirSync(join(dir, 'certs'));
  mkdirSync(join(dir, 'keys'));
  const now = Date.now();
  const caExtensions = (keys: CryptoKeyPair) =>
    Promise.all([
      new px.BasicConstraintsExtension(true, undefined, true),
      new px.KeyUsagesExtension(px.KeyUsageFlags.keyCertSign | px.KeyUsageFlags.cRLSign, true),
      px.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ]);
  const rootKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const root = await px.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Bench Root CA',
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys: rootKeys,
    signingAlgorithm: EC,
    extensions: await caExtensions(rootKeys),
  });
  const interKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const inter = await px.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=Bench Intermediate CA',
    issuer: root.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 1825 * DAY),
    publicKey: interKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: EC,
    extensions: [...(await caExtensions(interKeys)), await px.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey)],
  });
  const interPem = `${inter.toString('pem')}\n`;
  const leafKeys: CryptoKeyPair[] = [];
  const keyFiles: string[] = [];
  for (let k = 0; k < count; k++) {
    const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    leafKeys.push(keys);
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const file = join(dir, 'keys', `${k}.key`);
    writeFileSync(file, `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`);
    keyFiles.push(file);
  }
  const aki = await px.AuthorityKeyIdentifierExtension.create(interKeys.publicKey);
  const certFiles: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `www${i}.bench.test`;
    // Mostly healthy, with a share of the defects the rules exist for.
    const kind = i % 20;
    const notAfter = kind === 1 ? new Date(now - DAY) : kind === 2 ? new Date(now + 2 * DAY) : new Date(now + (30 + (i % 60)) * DAY);
    const extensions: px.Extension[] = [
      new px.BasicConstraintsExtension(false),
      new px.KeyUsagesExtension(px.KeyUsageFlags.digitalSignature, true),
      aki,
      new px.ExtendedKeyUsageExtension([kind === 3 ? px.ExtendedKeyUsage.clientAuth : px.ExtendedKeyUsage.serverAuth]),
    ];
    if (kind !== 4) extensions.push(new px.SubjectAlternativeNameExtension([{ type: 'dns', value: name }]));
    const leaf = await px.X509CertificateGenerator.create({
      serialNumber: (0x1000 + i).toString(16),
      subject: `CN=${name}`,
      issuer: inter.subject,
      notBefore: new Date(now - DAY),
      notAfter,
      publicKey: leafKeys[i]!.publicKey,
      signingKey: interKeys.privateKey,
      signingAlgorithm: EC,
      extensions,
    });
    const file = join(dir, 'certs', `${String(i).padStart(5, '0')}.crt`);
    writeFileSync(file, `${leaf.toString('pem')}\n${interPem}`);
    certFiles.push(file);
  }
  return { dir, certFiles, keyFiles, rootPem: `${root.toString('pem')}\n` };
}

interface Sample {
  seconds: number;
  peakRssMiB: number;
  peakHeapMiB: number;
}

/**
 * Times two loops over the same files in alternating batches, so that both see the same machine: on a shared
 * host the load changes within seconds, and two phases run one after the other would compare different loads.
 */
async function measurePair(files: number, batch: number, first: (index: number) => unknown, second: (index: number) => unknown): Promise<[Sample, Sample]> {
  (globalThis as { gc?: () => void }).gc?.();
  const seconds = [0, 0];
  const peakRss = [0, 0];
  const peakHeap = [0, 0];
  const sample = (which: number) => {
    const m = process.memoryUsage();
    peakRss[which] = Math.max(peakRss[which]!, m.rss);
    peakHeap[which] = Math.max(peakHeap[which]!, m.heapUsed);
  };
  for (let from = 0; from < files; from += batch) {
    const to = Math.min(files, from + batch);
    for (const [which, each] of [
      [0, first],
      [1, second],
    ] as const) {
      const start = performance.now();
      for (let i = from; i < to; i++) {
        const result = each(i);
        if (result instanceof Promise) await result;
      }
      seconds[which] = seconds[which]! + (performance.now() - start) / 1000;
      sample(which);
    }
  }
  const of = (which: number): Sample => ({ seconds: seconds[which]!, peakRssMiB: peakRss[which]! / 2 ** 20, peakHeapMiB: peakHeap[which]! / 2 ** 20 });
  return [of(0), of(1)];
}

export async function main(args: string[]): Promise<void> {
  const count = option(args, 'files', 10_000);
  const rounds = option(args, 'rounds', 3);
  process.stdout.write(`generating ${count} certificate files (leaf + intermediate) and their keys ...\n`);
  const fixture = await makeFixture(count);
  try {
    const inspector = new CertificateInspector(undefined, undefined, { trustStore: new TrustStore({ pems: [fixture.rootPem] }), revocation: null });
    const signal = new AbortController().signal; // offline: nothing to bound, and one signal as a run has
    const ctx = (i: number): InspectContext => ({
      target: { id: 'bench', names: [`www${i}.bench.test`], services: ['web'], kind: 'site' },
      now: new Date(),
      policy: { providerIssuerPatterns: [/Bench Intermediate/], providerThresholdDays: 25, otherThresholdDays: 3, caConfigured: true, live: false },
      signal,
    });
    const defects = new Map<string, number>();

    // Ceiling: read the file and parse every certificate in it with node's X509Certificate, nothing else.
    const parseOnly = (i: number) => {
      const text = readFileSync(fixture.certFiles[i]!, 'latin1');
      let at = 0;
      for (;;) {
        const begin = text.indexOf('-----BEGIN CERTIFICATE-----', at);
        if (begin < 0) break;
        const end = text.indexOf('-----END CERTIFICATE-----', begin) + 25;
        new X509Certificate(text.slice(begin, end));
        at = end;
      }
    };
    // The inspector as the inspect stage calls it: the installer's read (both files), then every offline rule.
    const inspectOne = async (i: number, count = false) => {
      const material: ServiceMaterial = {
        service: 'web',
        endpoints: [],
        sources: [
          { path: fixture.certFiles[i]!, role: 'certificate', bytes: readFileSync(fixture.certFiles[i]!) },
          { path: fixture.keyFiles[i]!, role: 'key', bytes: readFileSync(fixture.keyFiles[i]!) },
        ],
      };
      const result = await inspector.inspect(material, ctx(i));
      if (count) for (const d of result.defects) defects.set(d.code, (defects.get(d.code) ?? 0) + 1);
    };

    const warm = Math.min(count, 500);
    await measurePair(warm, warm, parseOnly, (i) => inspectOne(i));
    const rows: { what: string; round: number; sample: Sample; load: LoadSpan }[] = [];
    for (let round = 1; round <= rounds; round++) {
      const {
        value: [ceiling, inspect],
        load,
      } = await withLoad(() => measurePair(count, 250, parseOnly, (i) => inspectOne(i, round === 1)));
      rows.push({ what: 'X509Certificate parse (ceiling)', round, sample: ceiling, load });
      rows.push({ what: 'CertificateInspector.inspect', round, sample: inspect, load });
    }

    const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
    process.stdout.write(`\n${count} files, ${rounds} rounds (the two loops alternate in batches of 250 files), node ${process.version}\n\n`);
    process.stdout.write(
      `${line(['what', 'round', 'seconds', 'files/s', 'peak RSS MiB', 'peak heap MiB', `${LOAD_HEADER}, the round`])}\n${line(['---', '---:', '---:', '---:', '---:', '---:', '---'])}\n`,
    );
    for (const { what, round, sample, load } of rows) {
      process.stdout.write(
        `${line([what, String(round), sample.seconds.toFixed(3), Math.round(count / sample.seconds).toLocaleString('en-US'), sample.peakRssMiB.toFixed(1), sample.peakHeapMiB.toFixed(1), formatLoad(load)])}\n`,
      );
    }
    const total = (what: string) => rows.filter((r) => r.what === what).reduce((sum, r) => sum + r.sample.seconds, 0);
    const ceiling = (count * rounds) / total('X509Certificate parse (ceiling)');
    const ours = (count * rounds) / total('CertificateInspector.inspect');
    process.stdout.write(
      `\nall rounds: inspector ${Math.round(ours).toLocaleString('en-US')} files/s, ceiling ${Math.round(ceiling).toLocaleString('en-US')} files/s: ${((100 * ours) / ceiling).toFixed(1)} % of the ceiling (aim: 50 %)\n`,
    );
    process.stdout.write(`peak RSS of the process: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB\n`);
    process.stdout.write(
      `defects found in round 1: ${[...defects]
        .sort()
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}\n`,
    );
  } finally {
    rmSync(fixture.dir, { recursive: true, force: true });
  }
}
