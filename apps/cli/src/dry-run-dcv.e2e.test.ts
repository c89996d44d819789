// `check --dry-run` runs local DCV read-only, end to end: names are resolved from the lab's BIND root, an HTTP name must
// reach nginx (this server) and a DNS name's zone must answer from every nameserver; "would issue" names only the names
// that pass, each DCV line is printed once, and nothing is written: no probe file, no TXT record, no state.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomLoopback, runCli, startAcmeLab, type AcmeLab } from '@certsmith/testlab';

const HOST = 'dry.example.test';
const WWW = `www.${HOST}`;
const GONE = `gone.${HOST}`;

let lab: AcmeLab;
const elsewhere = randomLoopback();

beforeAll(async () => {
  lab = await startAcmeLab({ name: 'dry-run-dcv-e2e', pebble: false, webNames: [HOST], records: [`update add ${WWW}. 60 IN A ${elsewhere}`] });
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

/** An ACME issuer whose directory nothing serves: a dry run must never ask it. */
const issuerAcme = { module: '@certsmith/issuer-acme', options: { directoryUrl: 'https://127.0.0.1:9/directory' } };

const count = (text: string, line: string) => text.split('\n').filter((l) => l === line).length;

describe('check --dry-run runs the local DCV pre-check read-only', () => {
  it('HTTP: says "would issue" only for the name that reaches this server, drops the other with its reason, writes nothing', async () => {
    const file = await lab.writeConfig('http', {
      profile: 'full',
      hostname: HOST,
      names: [WWW, GONE],
      issuers: ['acme', 'selfsigned'],
      plugins: [{ module: '@certsmith/dcv-http', options: { docroot: lab.docroot } }, issuerAcme],
    });
    const result = await runCli(['check', '--dry-run', '--config', file]);
    const out = result.stdout;
    expect(result.code, out).toBe(0);
    expect(count(out, `  Local HTTP DCV OK: ${HOST}`), out).toBe(1);
    expect(out.split('\n').filter((l) => l.startsWith(`  Local HTTP DCV error (${WWW}): ${WWW} resolves to the private address ${elsewhere}`))).toHaveLength(1);
    expect(out.split('\n').filter((l) => l.startsWith(`  Local HTTP DCV error (${GONE}): ${GONE} does not resolve (NXDOMAIN)`))).toHaveLength(1);
    expect(out).toContain(`would issue a certificate for ${HOST} (issuers: acme → selfsigned)`);
    expect(out).toContain(`would leave out of the order, as they fail local DCV: ${WWW}, ${GONE}`);
    expect(out).not.toMatch(/would issue a certificate for [^\n]*www/);

    const json = JSON.parse((await runCli(['check', '--dry-run', '--json', '--config', file])).stdout) as {
      targets: { result: string; validations: { name: string; ok: boolean; reason?: string }[] }[];
    };
    expect(json.targets[0]!.result).toBe('planned');
    expect(json.targets[0]!.validations.map((v) => [v.name, v.ok])).toEqual(
      expect.arrayContaining([
        [HOST, true],
        [WWW, false],
        [GONE, false],
      ]),
    );
    // Nothing written: no probe file (nginx's docroot is empty), no state, no ssl directory; the probe asked nginx only
    // for a path that cannot exist.
    expect(await readdir(lab.docroot)).toEqual([]);
    await expect(stat(join(lab.dir, 'state-http'))).rejects.toThrow(/ENOENT/);
    expect(await lab.webHits('/.well-known/pki-validation/certsmith-dry-run-')).toBe(2);
  }, 90_000);

  it('HTTP: the primary name failing means no order from the CA; the self-signed fallback is what would be issued', async () => {
    const file = await lab.writeConfig('http-primary', {
      profile: 'full',
      hostname: GONE,
      names: [HOST],
      issuers: ['acme', 'selfsigned'],
      plugins: [{ module: '@certsmith/dcv-http', options: { docroot: lab.docroot } }, issuerAcme],
    });
    const result = await runCli(['check', '--dry-run', '--config', file]);
    expect(result.stdout).toContain(
      `would not order from "acme": the primary name ${GONE} fails local DCV (see the warnings); the run would try issuer "selfsigned"`,
    );
    expect(result.stdout).toContain(`would issue a certificate for ${GONE}, ${HOST} (issuers: acme → selfsigned)`);
    expect(await readdir(lab.docroot)).toEqual([]);
  }, 90_000);

  it('DNS: a name in a zone whose servers answer passes, one in a zone a nameserver refuses is dropped, no record is written', async () => {
    const file = await lab.writeConfig('dns', {
      profile: 'dnsonly',
      hostname: 'example.test',
      names: ['www.lame.test'],
      issuers: ['acme', 'selfsigned'],
      plugins: [{ module: '@certsmith/dcv-dns', options: { tsigKeyFile: await lab.copyTsigKey() } }, issuerAcme],
    });
    const result = await runCli(['check', '--dry-run', '--config', file]);
    const out = result.stdout;
    expect(count(out, '  Local DNS DCV OK: example.test'), out).toBe(1);
    expect(
      out.split('\n').filter((l) => l.startsWith('  Local DNS DCV error (www.lame.test): not every nameserver of zone lame.test. answers for it: ')),
    ).toHaveLength(1);
    expect(out).toContain('would issue a certificate for example.test (issuers: acme → selfsigned)');
    expect(out).toContain('would leave out of the order, as they fail local DCV: www.lame.test');
    expect(await lab.dns.dig(lab.dns.addresses.primary, '_cpanel-dcv-test-record.example.test', 'TXT')).toBe('');
    await expect(stat(join(lab.dir, 'state-dns'))).rejects.toThrow(/ENOENT/);
  }, 90_000);
});
