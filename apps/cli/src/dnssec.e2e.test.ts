// DNSSEC end to end: the built CLI (`certsmith dcv`, full profile, dns.dnssec on) resolves names from the lab's signed
// BIND root with the lab's root DS as its trust anchor, and drops a name whose answer is bogus with the reason.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DNSSEC_LAB_ZONES as Z, labDir, runCli, startDnssecLab, type DnssecLab } from '@certsmith/testlab';

let lab: DnssecLab;
let dir: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  [lab, dir] = await Promise.all([startDnssecLab(), labDir('dnssec-e2e')]);
  await mkdir(join(dir.path, 'docroot'));
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  await dir?.cleanup();
});

async function config(file: string, hostname: string, dnssec: boolean): Promise<string> {
  const path = join(dir.path, file);
  const settings = {
    profile: 'full',
    hostname,
    paths: { stateDir: `./state-${file}`, sslDir: `./ssl-${file}` },
    inspection: { live: false },
    plugins: [{ module: '@certsmith/dcv-http', options: { docroot: './docroot', readTimeoutMs: 1_000 } }],
    dns: { rootHints: lab.rootHintsFile, port: 53, timeoutMs: 1_000, dnssec, trustAnchor: lab.trustAnchorDsFile },
  };
  await writeFile(path, JSON.stringify(settings, null, 2));
  return path;
}

describe('certsmith dcv with dns.dnssec against a signed BIND hierarchy', () => {
  it('drops a name whose RRSIGs expired, and says DNSSEC_BOGUS with the name, what failed and the server', async () => {
    const result = await runCli(['dcv', '--config', await config('expired.json', `www.${Z.expired}`, true)]);
    const when = lab.expiredAt.toISOString().replace('.000Z', 'Z');
    expect(result.stdout + result.stderr).toContain(`DNSSEC_BOGUS: ${Z.expired}: RRSIG over DNSKEY expired ${when} at ns1.zones.test`);
    expect(result.code).not.toBe(0);
    // The verdict's code says what it is: not a missing record, a signature the CA would refuse.
    const json = await runCli(['dcv', '--json', '--config', await config('expired-json.json', `www.${Z.expired}`, true)]);
    const { validations } = JSON.parse(json.stdout) as { validations: { name: string; ok: boolean; code?: string }[] };
    expect(validations).toContainEqual(expect.objectContaining({ name: `www.${Z.expired}`, ok: false, code: 'DNSSEC_BOGUS' }));
  });

  it('drops a name whose parent DS matches no key of its zone', async () => {
    const result = await runCli(['dcv', '--config', await config('wrongds.json', `www.${Z.wrongDs}`, true)]);
    expect(result.stdout + result.stderr).toMatch(/DNSSEC_BOGUS: wrongds\.test: no DNSKEY of wrongds\.test matches its DS \(key tag \d+\) at ns1\.zones\.test/);
  });

  it('without dns.dnssec, the same name resolves (no validation)', async () => {
    const result = await runCli(['dcv', '--config', await config('off.json', `www.${Z.expired}`, false)]);
    expect(result.stdout + result.stderr).not.toContain('DNSSEC_BOGUS');
  });
});
