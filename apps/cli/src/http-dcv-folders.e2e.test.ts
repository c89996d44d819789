// The `.well-known` folders of HTTP DCV end to end, over several runs of the built CLI against the testlab's issuing
// ACME double (which validates http-01 through the lab's nginx): a run makes the folders it needs once and removes
// them at its end; a run killed (SIGKILL) while the CA validates leaves them behind, recorded, and the next run
// removes exactly those; a folder the administrator made is never removed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_UNDER_TEST_PATH,
  cliNodeFlags,
  runCli,
  sleep,
  startAcmeLab,
  startIssuingAcmeDouble,
  type AcmeLab,
  type IssuingAcmeDouble,
} from '@certsmith/testlab';

const ZONE = `wk-${randomBytes(3).toString('hex')}.example.test`;
const HOST = `host.${ZONE}`;
const EAB = { kid: 'kid-1', hmacKey: randomBytes(32).toString('base64url') };

let lab: AcmeLab;
let double: IssuingAcmeDouble;

beforeAll(async () => {
  lab = await startAcmeLab({ name: 'http-dcv-folders-e2e', webNames: [HOST], pointedNames: [HOST], pebble: false });
  double = await startIssuingAcmeDouble({ validation: { http01: { address: lab.nginx.address, port: lab.nginx.httpPort } }, ari: false });
}, 120_000);

afterAll(async () => {
  await double?.stop();
  await lab?.stop();
});

async function config(name: string): Promise<string> {
  return lab.writeConfig(name, {
    profile: 'full',
    hostname: HOST,
    names: [],
    services: { exim: false, ftp: false, cpanel: false },
    plugins: [
      lab.httpDcvPlugin,
      {
        module: '@certsmith/issuer-acme',
        options: { ...(await lab.acmeIssuerOptions(name, { ca: double, eab: EAB })), issuerPatterns: [double.issuerPattern] },
      },
    ],
    issuers: ['acme'],
  });
}

const env = () => ({ SSL_CERT_FILE: double.rootFile });
const wellKnown = () => join(lab.docroot, '.well-known');
const list = (dir: string) => readdir(dir).then((names) => names.sort());

describe('certsmith check: the .well-known folders', { timeout: 180_000 }, () => {
  it('a run makes the folders it needs and removes them at its end, leaving the docroot as it found it', async () => {
    expect(await readdir(lab.docroot)).toEqual([]);
    const first = await runCli(['check', '--config', await config('plain')], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Issued by "acme"');
    expect(await readdir(lab.docroot)).toEqual([]);
  });

  it("a run killed while the CA validates leaves its folders recorded; the next run removes those and not the administrator's", async () => {
    await mkdir(wellKnown()); // the administrator's, empty: only the record keeps it from being removed
    const file = await config('killed');
    const published = join(lab.dir, 'state-killed', 'dcv-http', 'published');
    double.behave({ validationDelayMs: 60_000 });
    const from = double.requests.length;
    const child = spawn(process.execPath, [...cliNodeFlags(CLI_UNDER_TEST_PATH), CLI_UNDER_TEST_PATH, 'check', '--config', file], {
      env: { ...process.env, ...env() },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      // Mid-way: the http-01 file is published and the CA was told; the run now waits for its verdict.
      const answered = () => double.requests.slice(from).some((r) => r.path.startsWith('/chall/'));
      for (let tries = 0; !answered(); tries++) {
        if (tries > 1_200) throw new Error('the run never answered its challenge');
        await sleep(50);
      }
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    expect(await list(wellKnown())).toEqual(['acme-challenge', 'pki-validation']);
    expect(await readdir(join(wellKnown(), 'acme-challenge'))).toHaveLength(1);
    const [journal] = await readdir(published);
    const recorded = (await readFile(join(published, journal!), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        const parsed = JSON.parse(line) as { dir?: string };
        return parsed.dir ? [parsed.dir] : [];
      });
    expect(recorded.sort()).toEqual([join(wellKnown(), 'acme-challenge'), join(wellKnown(), 'pki-validation')]);

    double.behave({ validationDelayMs: 0 });
    const next = await runCli(['check', '--config', file], { env: env() });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('Issued by "acme"');
    // What the killed run made is gone (its file, its folders), the administrator's folder stays, and so does no record.
    expect(await readdir(lab.docroot)).toEqual(['.well-known']);
    expect(await readdir(wellKnown())).toEqual([]);
    expect(await readdir(published)).toEqual([]);
  });
});
