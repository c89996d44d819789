// Benchmark: the proof's score (figures in docs/performance.md). The proof lab (tools/testlab's startProofLab) holds names under a dozen
// kinds of fault and control names, in the lab's BIND tree and in the signed DNSSEC tree. For each name: the
// pre-check as a user runs it (the shipped CLI, `certsmith dcv --json`, on a config with the name as its hostname),
// then a real order for that name alone at each CA of its tree: Debian's Pebble (its VA asks the tree's Unbound, which
// validates DNSSEC in the signed tree) and the issuing double with a real CA's checks that Pebble lacks (CAA with RFC
// 8657, http-01 from every authoritative server and every address). The CA's verdict is issued when both issued.
// Prints how often the pre-check predicted it, and names every false drop and false pass. The load average is beside
// the score; no time is the point here. --probe-redirects: dcv-http's probeRedirects in the pre-check's config (by
// default the plugin's own default, as a user who sets nothing has it).
//   npm run bench -- proof [--probe-redirects none|acme]
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AcmeIssuer } from '@certsmith/acme';
import { createBus, type Challenge, type DcvMethod, type Published } from '@certsmith/core';
import { CLI_PATH, PROOF_CAA_IDENTITY, copyCaFile, runCli, startProofLab, type ProofLab, type ProofName, type ProofWorld } from '@certsmith/testlab';
import { WebCryptoCsrFactory } from '@certsmith/x509';
import { formatLoad, LOAD_HEADER, withLoad, writeResults, type LoadSpan } from './report.js';

export interface ProofRow extends ProofName {
  precheck: { pass: boolean; why: string };
  /** Null where Pebble 2.4 lacks the challenge type (dns-persist-01). */
  pebble: { issued: boolean; why: string } | null;
  double: { issued: boolean; why: string };
  /** The CA's verdict: both CAs issued (the double alone for dns-persist-01). */
  caIssued: boolean;
  agreed: boolean;
}

interface DcvJson {
  passed: string[] | null;
  caa?: { allowed: string[] | null };
  validations: { name: string; ok: boolean; code?: string; reason?: string }[];
}

/** The pre-check of one name through the shipped CLI: passed local DCV and CAA, or why not. */
async function precheck(lab: ProofLab, n: ProofName, index: number, dcvOptions: Record<string, unknown>): Promise<{ pass: boolean; why: string }> {
  const { world } = n;
  const w = lab[world];
  const file = join(lab.dir, `proof-${world}-${index}.json`);
  const persist = n.challenge === 'dns-persist-01';
  // A DNS-only server for a name its CA validates against a standing record; the full profile over HTTP otherwise.
  const dcv = persist
    ? { module: '@certsmith/dcv-dns', options: { tsigKeyFile: await lab.acme.copyTsigKey() } }
    : { module: '@certsmith/dcv-http', options: { docroot: lab.docroot, ...dcvOptions } };
  const config = {
    profile: persist ? 'dnsonly' : 'full',
    hostname: n.name,
    paths: { stateDir: `./state-${world}`, sslDir: `./ssl-${world}` },
    inspection: { live: false },
    ...(persist ? { services: { cpanel: false } } : {}),
    server: { addresses: lab.serverAddresses },
    dns: { rootHints: w.rootHintsFile, port: 53, ...(w.trustAnchorDsFile ? { dnssec: true, trustAnchor: w.trustAnchorDsFile } : {}) },
    plugins: [
      dcv,
      {
        module: '@certsmith/issuer-acme',
        options: {
          directoryUrl: w.double!.directoryUrl,
          caFile: await copyCaFile(lab, w.double!, `double-${world}`),
          issuerPatterns: [w.double!.issuerPattern],
          caaIdentities: [PROOF_CAA_IDENTITY],
          ...(persist ? { challengeTypes: ['dns-persist-01', 'dns-01'] } : { addressPreference: 'every' }),
        },
      },
    ],
    issuers: ['acme'],
  };
  await writeFile(file, JSON.stringify(config, null, 2));
  const result = await runCli(['dcv', '--json', '--config', file], { cli: CLI_PATH, cwd: lab.dir });
  if (result.code === 2 || !result.stdout.startsWith('{'))
    throw new Error(`certsmith dcv on ${n.name} failed (exit ${result.code}): ${result.stderr}${result.stdout}`);
  const report = JSON.parse(result.stdout) as DcvJson;
  const failed = report.validations.find((v) => v.name === n.name && !v.ok);
  const pass = (report.passed ?? []).includes(n.name) && (report.caa === undefined || (report.caa.allowed ?? []).includes(n.name));
  return { pass, why: pass ? '' : failed ? `${failed.code ?? ''} ${failed.reason ?? ''}`.trim() : 'no verdict' };
}

/**
 * Answers http-01 by writing the key authorization into the lab's docroot (nginx serves it); dns-persist-01 by
 * writing nothing: the lab's standing record, as it stands, is what the CA judges.
 */
function docrootResponder(docroot: string): DcvMethod {
  return {
    id: 'proof-docroot',
    answers: ['http-file', 'dns-persist'],
    publish: async (c: Challenge): Promise<Published> => {
      if (c.kind === 'dns-persist') return { method: 'proof-docroot', challenge: c, where: c.owner, handle: null, kept: true };
      if (c.kind !== 'http-file') throw new Error('the proof answers http-01 and dns-persist-01 only');
      const file = join(docroot, c.path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, c.body);
      return { method: 'proof-docroot', challenge: c, where: file, handle: file };
    },
    // No check of its own: the CA is the judge here.
    check: async (p: Published) => ({ name: p.challenge.name, ok: true }),
    cleanup: async (p: Published) => (typeof p.handle === 'string' ? rm(p.handle, { force: true }) : undefined),
  };
}

/** An ACME issuer for one CA of the lab; the double's keeps its account where the pre-check's config finds it. */
function issuerFor(
  ca: { directoryUrl: string; tlsCaPem: string; eab?: { kid: string; hmacKey: string } },
  challenge: ProofName['challenge'] = 'http-01',
): AcmeIssuer {
  return new AcmeIssuer({
    id: 'acme',
    directoryUrl: ca.directoryUrl,
    caPem: ca.tlsCaPem,
    ...(ca.eab ? { eab: ca.eab } : {}),
    issuerPatterns: [],
    // The standing record names the issuer domain name the issuer knows, as certsmith's own configs say it.
    caaIdentities: [PROOF_CAA_IDENTITY],
    accountKeyType: 'ES256',
    challengeTypes: [challenge],
    maxWaitMs: 60_000,
    precheck: 'none',
  });
}

const csrs = new WebCryptoCsrFactory();

/** One order for one name; issued, or the CA's refusal. */
async function order(issuer: AcmeIssuer, stateDir: string, docroot: string, name: string): Promise<{ issued: boolean; why: string }> {
  try {
    const names = [name];
    const result = await issuer.issue(
      { target: { id: 'hostname', names, services: [], kind: 'hostname' }, names, csr: await csrs.create(names, { type: 'ecdsa-p256' }) },
      { bus: createBus(), dcv: [docrootResponder(docroot)], clock: { now: () => new Date() }, signal: AbortSignal.timeout(90_000), stateDir },
    );
    return { issued: result.status === 'issued', why: result.status === 'issued' ? '' : `order left ${result.status}` };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { issued: false, why: `${e.code ? `${e.code}: ` : ''}${e.message}` };
  }
}

export async function main(args: string[]): Promise<ProofRow[]> {
  const { values } = parseArgs({ args, options: { 'probe-redirects': { type: 'string' } } });
  const redirects = values['probe-redirects'];
  if (redirects !== undefined && redirects !== 'none' && redirects !== 'acme') throw new Error(`--probe-redirects: none or acme, not ${redirects}`);
  const dcvOptions = redirects ? { probeRedirects: redirects } : {};
  process.stderr.write('proof: starting the proof lab (BIND, the signed tree, Unbound x2, nginx x4, Pebble x2, the double x2) ...\n');
  const lab = await startProofLab();
  try {
    const { value: rows, load } = await withLoad(() => score(lab, dcvOptions));
    const tables = proofTables(rows, load, redirects ?? "the plugin's default");
    process.stdout.write(`${tables}\n`);
    await writeResults('proof', { rows, load }, tables);
    return rows;
  } finally {
    await lab.stop();
  }
}

async function score(lab: ProofLab, dcvOptions: Record<string, unknown>): Promise<ProofRow[]> {
  const sessions = (world: ProofWorld, name: 'web' | 'dnssec') => ({
    pebble: { issuer: issuerFor(world.pebble!), stateDir: join(lab.dir, `pebble-${name}`) },
    double: { issuer: issuerFor(world.double!), stateDir: join(lab.dir, `state-${name}`, 'issuers', 'acme') },
    persist: issuerFor(world.double!, 'dns-persist-01'),
  });
  const cas = { web: sessions(lab.web, 'web'), dnssec: sessions(lab.dnssec, 'dnssec') };
  // The double's account exists before any pre-check (the RFC 8657 check reads it), and is bound by CAA where meant.
  const control = lab.names.find((n) => n.kind === 'control')!.name;
  const first = await order(cas.web.double.issuer, cas.web.double.stateDir, lab.docroot, control);
  if (!first.issued) throw new Error(`the double refused the control name ${control}: ${first.why}`);
  const account = JSON.parse(await readFile(join(cas.web.double.stateDir, 'account.json'), 'utf8')) as { url: string };
  await lab.bindAccount(account.url);
  const rows: ProofRow[] = [];
  for (const [index, n] of lab.names.entries()) {
    if (n.world === 'dnssec') await expectResolverVerdict(lab, n);
    const pre = await precheck(lab, n, index, dcvOptions);
    const ca = cas[n.world];
    const persist = n.challenge === 'dns-persist-01';
    const pebble = persist ? null : await order(ca.pebble.issuer, ca.pebble.stateDir, lab.docroot, n.name);
    const double = await order(persist ? ca.persist : ca.double.issuer, ca.double.stateDir, lab.docroot, n.name);
    const caIssued = (pebble?.issued ?? true) && double.issued;
    rows.push({ ...n, precheck: pre, pebble, double, caIssued, agreed: pre.pass === caIssued });
    process.stderr.write(`  ${n.kind}: ${n.name}: pre-check ${pre.pass ? 'pass' : 'drop'}, CA ${caIssued ? 'issued' : 'refused'}\n`);
  }
  return rows;
}

/** The validating resolver refuses the bogus names and answers the others: else the lab is not what the proof needs. */
async function expectResolverVerdict(lab: ProofLab, n: ProofName): Promise<void> {
  const answer = await lab.resolve('dnssec', n.name, 'A');
  const bogus = n.kind === 'DNSSEC bogus';
  if (bogus ? !answer.includes('status: SERVFAIL') : !/status: NOERROR[\s\S]*\sIN\s+A\s/.test(answer))
    throw new Error(`the validating resolver ${bogus ? 'does not refuse' : 'gives no address for'} ${n.name}: the lab is not what the proof needs`);
}

/** The tables: every name, each kind, and the score with the false drops and false passes named. */
export function proofTables(rows: ProofRow[], load: LoadSpan, probeRedirects: string): string {
  const lines: string[] = [];
  const out = (line: string) => lines.push(line);
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 160);
  const verdict = (ok: boolean, yes: string, no: string, why: string) => (ok ? yes : `${no}${why ? `: ${cell(why)}` : ''}`);
  out(`\n### The proof's score: certsmith dcv's verdict beside the CA's, one order per name (dcv-http probeRedirects: ${probeRedirects})\n`);
  out('| kind | name | fault | pre-check | Pebble | double (CAA, every perspective) | CA | agreed |');
  out('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    out(
      `| ${r.kind} | ${r.name} | ${cell(r.fault)} | ${verdict(r.precheck.pass, 'pass', 'drop', r.precheck.why)} | ${r.pebble ? verdict(r.pebble.issued, 'issued', 'refused', r.pebble.why) : '– (no dns-persist-01)'} | ${verdict(r.double.issued, 'issued', 'refused', r.double.why)} | ${r.caIssued ? 'issued' : 'refused'} | ${r.agreed ? 'yes' : '**no**'} |`,
    );
  out('\n| kind | names | pre-check pass | CA issued | agreed |');
  out('| --- | ---: | ---: | ---: | ---: |');
  for (const kind of [...new Set(rows.map((r) => r.kind))]) {
    const of = rows.filter((r) => r.kind === kind);
    const count = (f: (r: ProofRow) => boolean) => of.filter(f).length;
    out(`| ${kind} | ${of.length} | ${count((r) => r.precheck.pass)} | ${count((r) => r.caIssued)} | ${count((r) => r.agreed)}/${of.length} |`);
  }
  const agreed = rows.filter((r) => r.agreed).length;
  const falseDrops = rows.filter((r) => !r.precheck.pass && r.caIssued);
  const falsePasses = rows.filter((r) => r.precheck.pass && !r.caIssued);
  const kinds = new Set(rows.filter((r) => r.kind !== 'control').map((r) => r.kind)).size;
  out(`\n| score | names | fault kinds | false drops | false passes | ${LOAD_HEADER} |`);
  out('| ---: | ---: | ---: | ---: | ---: | --- |');
  out(
    `| ${((100 * agreed) / rows.length).toFixed(1)} % (${agreed}/${rows.length}) | ${rows.length} | ${kinds} | ${falseDrops.length} | ${falsePasses.length} | ${formatLoad(load)} |`,
  );
  out(`\nfalse drops (the pre-check dropped a name the CA validated): ${falseDrops.map((r) => `${r.name} (${r.kind})`).join(', ') || 'none'}`);
  out(`false passes (the pre-check passed a name the CA refused): ${falsePasses.map((r) => `${r.name} (${r.kind})`).join(', ') || 'none'}`);
  return lines.join('\n');
}
