// The pre-order proof from every perspective a CA may use, end to end through the built CLI and the lab's BIND root:
// `split.` has an A record to the nginx that serves the docroot and one to an address where nothing listens;
// www.files.test is served by the primary at nginx's address while the secondary kept an old address (the zone was
// changed under the same serial), where a second nginx serves the same docroot; old.files.test likewise, but its old
// address is one where nothing listens. An issuer that says 'every' drops split. and old.files.test, and keeps
// www.files.test (every address any server gives serves the file, as the CA will find) with the servers' disagreement
// as a warning; so does the generic ACME issuer's own preference. `check --dry-run` makes the same read-only checks
// (nothing published) and says so in its plan.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStaleSecondary, randomLoopback, runCli, startAcmeLab, startNginx, type AcmeLab, type Nginx } from '@certsmith/testlab';

const HOST = `mp-${randomBytes(3).toString('hex')}.example.test`;
const WWW = `www.${HOST}`;
const SPLIT = `split.${HOST}`;
const FILES = 'www.files.test';
const OLD = 'old.files.test';
const WEB = randomLoopback();
const SILENT = randomLoopback();

let lab: AcmeLab;
let stale: Nginx | undefined;

beforeAll(async () => {
  lab = await startAcmeLab({
    name: 'perspectives-e2e',
    webNames: [HOST, WWW, SPLIT, FILES, OLD],
    webAddress: WEB,
    pointedNames: [HOST, WWW, SPLIT],
    records: [`update add ${SPLIT}. 60 IN A ${SILENT}`],
  });
  stale = await startNginx({ address: randomLoopback(), sites: [{ serverNames: ['_'], docroot: lab.docroot }] });
  await makeStaleSecondary(lab.dns, {
    transferred: [`www     IN A   ${stale.address}`, `old     IN A   ${SILENT}`],
    primaryOnly: [`www     IN A   ${WEB}`, `old     IN A   ${WEB}`],
  });
  expect(await lab.dns.dig(lab.dns.addresses.secondary, FILES, 'A')).toBe(stale.address);
}, 120_000);

afterAll(async () => {
  await stale?.stop();
  await lab?.stop();
});

/**
 * A config in its own sandbox for the generic ACME issuer (pointed at Pebble), with its options. OLD only under
 * 'every': under another preference it passes or fails as the server a resolution reaches decides.
 */
async function config(name: string, options: Record<string, unknown> = {}): Promise<string> {
  return lab.writeConfig(name, {
    profile: 'full',
    hostname: HOST,
    names: options.addressPreference === 'every' ? [WWW, SPLIT, FILES, OLD] : [WWW, SPLIT, FILES],
    plugins: [
      lab.httpDcvPlugin,
      { module: '@certsmith/issuer-acme', options: { ...(await lab.acmeIssuerOptions(name)), issuerPatterns: ['Pebble'], ...options } },
    ],
    issuers: ['acme', 'selfsigned'],
    server: { addresses: [WEB, SILENT, stale!.address] },
  });
}

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const serverLines = (old = stale!.address) => [
  `ns1.example.test (${lab.dns.addresses.primary}) answers ${WEB}`,
  `ns2.example.test (${lab.dns.addresses.secondary}) answers ${old}`,
];

describe('certsmith dcv with an issuer whose CA validates from several perspectives', { timeout: 120_000 }, () => {
  it("'every' shows the address and the server disagreements, one line each, drops the names an address fails, keeps www.files.test", async () => {
    const file = await config('every', { addressPreference: 'every' });
    const human = await runCli(['dcv', '--config', file]);
    const out = human.stdout;
    expect(human.stderr).toBe('');
    expect(out).toContain(`Local HTTP DCV OK: ${WWW}\n`);
    const addressLine = `${SPLIT}: ${SILENT} (A) refused the connection while ${WEB} (A) served the file`;
    expect(out).toContain(`Local HTTP DCV error (${SPLIT}): ${addressLine}; the CA validates from several network perspectives and may use any address`);
    expect(out).toMatch(
      new RegExp(`Warning \\(validate, ${esc(SPLIT)}\\): DCV_HTTP_ADDRESS_DISAGREES: ${esc(addressLine)}; .* → drop this name from the order`),
    );
    const oldLine = out.split('\n').find((line) => line.trimStart().startsWith(`Local HTTP DCV error (${OLD}): ${OLD}: `));
    expect(oldLine, out).toBeDefined();
    for (const part of serverLines(SILENT)) expect(oldLine).toContain(part);
    expect(oldLine).toContain(`${SILENT} (A) refused the connection`);
    expect(oldLine).toContain('make every nameserver of files.test serve the same records');
    expect(out).toMatch(new RegExp(`Warning \\(validate, ${esc(OLD)}\\): DNS_SERVERS_DISAGREE: .* → drop this name from the order`));
    expect(out).toContain(`Local HTTP DCV OK: ${FILES}\n`);
    const filesWarning = out.split('\n').find((line) => line.trimStart().startsWith(`Warning (validate, ${FILES}): DNS_SERVERS_DISAGREE: ${FILES}: `));
    expect(filesWarning, out).toBeDefined();
    for (const part of serverLines()) expect(filesWarning).toContain(part);
    expect(filesWarning).toMatch(/every address they give passes today, but the CA may reach any of them: .* → keep the name in the order$/);
    expect(out).toContain('3 of 5 name(s) passed local HTTP DCV.');
    expect(human.code).toBe(1);

    const json = await runCli(['dcv', '--config', file, '--json']);
    const report = JSON.parse(json.stdout) as { addressPreference: string; passed: string[]; validations: { name: string; ok: boolean; code?: string }[] };
    expect(report.addressPreference).toBe('every');
    expect(report.passed).toEqual([HOST, WWW, FILES]);
    expect(report.validations.find((v) => v.name === SPLIT)).toMatchObject({ ok: false, code: 'DCV_HTTP_ADDRESS_DISAGREES' });
    expect(report.validations.find((v) => v.name === OLD)).toMatchObject({ ok: false, code: 'DNS_SERVERS_DISAGREE' });
    expect(await readdir(lab.docroot)).toEqual([]);
  });

  it("the issuer's own preference keeps the name every address serves, with the servers' disagreement as a warning", async () => {
    const human = await runCli(['dcv', '--config', await config('default')]);
    expect(human.stdout).toContain(`Local HTTP DCV OK: ${FILES}\n`);
    const warning = human.stdout.split('\n').find((line) => line.trimStart().startsWith(`Warning (validate, ${FILES}): DNS_SERVERS_DISAGREE: ${FILES}: `));
    expect(warning, human.stdout).toBeDefined();
    for (const part of serverLines()) expect(warning).toContain(part);
    expect(warning).toMatch(/a CA that resolves from several perspectives may reach another server: .* → keep the name in the order$/);
  });
});

describe('certsmith check --dry-run runs the same read-only checks', { timeout: 120_000 }, () => {
  it("with an issuer that says 'every': leaves out the names an address fails with the reasons, and would issue for the rest only", async () => {
    const result = await runCli(['check', '--dry-run', '--config', await config('dry-every', { addressPreference: 'every' })]);
    const out = result.stdout;
    expect(result.stderr).toBe('');
    const addressLine = `${SPLIT}: ${SILENT} (A) refused the connection while ${WEB} (A) answered`;
    expect(out).toMatch(
      new RegExp(`Warning \\(validate, ${esc(SPLIT)}\\): DCV_HTTP_ADDRESS_DISAGREES: ${esc(addressLine)}; .* → drop this name from the order`),
    );
    const oldLine = out.split('\n').find((line) => line.trimStart().startsWith(`Warning (validate, ${OLD}): DNS_SERVERS_DISAGREE: ${OLD}: `));
    expect(oldLine, out).toBeDefined();
    for (const part of serverLines(SILENT)) expect(oldLine).toContain(part);
    expect(oldLine).toMatch(/→ drop this name from the order$/);
    expect(out).toMatch(new RegExp(`Warning \\(validate, ${esc(FILES)}\\): DNS_SERVERS_DISAGREE: .* → keep the name in the order`));
    expect(out).toContain(`would issue a certificate for ${HOST}, ${WWW}, ${FILES} (issuers: acme → selfsigned)`);
    expect(out).toContain(`would leave out of the order, as they fail local DCV: ${SPLIT}, ${OLD}`);
    expect(await readdir(lab.docroot)).toEqual([]);
  });

  it("with the issuer's own preference: keeps www.files.test, the servers' disagreement a warning", async () => {
    const result = await runCli(['check', '--dry-run', '--config', await config('dry-default')]);
    expect(result.stdout).toMatch(new RegExp(`Warning \\(validate, ${esc(FILES)}\\): DNS_SERVERS_DISAGREE: .* → keep the name in the order`));
    // split. passes or warns as its first address decides: which comes first is BIND's to say.
    const issuing = result.stdout.split('\n').find((line) => line.includes('would issue a certificate for '));
    expect(issuing, result.stdout).toContain(`${FILES} (issuers: acme → selfsigned)`);
    expect(result.stdout).not.toMatch(new RegExp(`would leave out of the order.*${esc(FILES)}`));
  });
});
