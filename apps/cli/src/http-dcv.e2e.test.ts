// HTTP DCV end to end: the built CLI (`certsmith dcv`, full profile) resolves every name iteratively from the lab's
// BIND root, fetches cPanel's probe from Debian's nginx through the first address with the Host header, and prints
// cPanel's lines. One DNS lab and one nginx for the whole file.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, randomLoopback, runCli, startAcmeLab, type AcmeLab } from '@certsmith/testlab';

const HOST = 'dcv-host.example.test';
const name = (label: string) => `${label}.${HOST}`;

let lab: AcmeLab;
const elsewhere = randomLoopback();

beforeAll(async () => {
  const wk = (body: string) => `    location /.well-known/ { ${body} }\n`;
  // The names live in the lab's dynamic zone: added with a TSIG-signed update, as an administrator would (every name
  // nginx serves points at it; www elsewhere).
  lab = await startAcmeLab({
    name: 'http-dcv-e2e',
    pebble: false,
    webNames: [HOST, name('xn--bcher-kva'), name('excluded')],
    extraSites: ({ dir, docroot }) => [
      { serverNames: [name('missing')], docroot, extra: wk('return 404;') },
      { serverNames: [name('moved')], docroot, extra: wk(`return 301 http://${HOST}$request_uri;`) },
      { serverNames: [name('slow')], docroot, extra: wk('limit_rate 1;') },
      { serverNames: [name('big')], docroot: join(dir, 'big'), extra: wk('rewrite ^ /big.bin break;') },
    ],
    records: [`update add ${name('www')}. 60 IN A ${elsewhere}`],
  });
  await writeFile(join(lab.dir, 'big', 'big.bin'), Buffer.alloc(1024 * 1024, 0x61));
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

async function config(file: string, names: string[], extra: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Promise<string> {
  // Named as before the lab wrote configs: the file `<file>`, its sandbox `state-<file>` and `ssl-<file>`.
  return lab.writeConfig(file.replace(/\.json$/, ''), {
    profile: 'full',
    hostname: HOST,
    names,
    paths: { stateDir: `./state-${file}`, sslDir: `./ssl-${file}` },
    plugins: [{ module: '@certsmith/dcv-http', options: { docroot: lab.docroot, readTimeoutMs: 2_000, ...options } }],
    ...extra,
  });
}

describe('certsmith dcv (HTTP, full profile) against BIND and nginx', () => {
  it("prints cPanel's line for every case and drops nothing it should keep", async () => {
    const file = await config(
      'sectigo.json',
      [name('www'), name('gone'), name('missing'), name('moved'), name('slow'), name('big'), 'Bücher.DCV-HOST.example.test.', `*.${HOST}`, name('excluded')],
      { dcv: { exclude: [name('excluded')] } },
    );
    const result = await runCli(['dcv', '--config', file]);
    const out = result.stdout;
    expect(result.stderr).toBe('');
    expect(out).toContain(`Local HTTP DCV OK: ${HOST}\n`);
    expect(out).toContain('Local HTTP DCV OK: bücher.dcv-host.example.test\n');
    expect(out).toContain(
      `Local HTTP DCV error (${name('www')}): ${name('www')} resolves to the private address ${elsewhere}, which is not one of this server's (server.addresses)`,
    );
    expect(out).toContain(`Local HTTP DCV error (${name('gone')}): ${name('gone')} does not resolve (NXDOMAIN)`);
    expect(out).toMatch(
      new RegExp(
        `Local HTTP DCV error \\(${esc(name('missing'))}\\): 404: http://${esc(name('missing'))}/\\.well-known/pki-validation/[0-9a-f]{32}\\.txt \\(at ${esc(lab.nginx.address)}\\) was not found`,
      ),
    );
    expect(out).toMatch(
      new RegExp(
        `Local HTTP DCV error \\(${esc(name('moved'))}\\): redirect not allowed \\(the CA follows none\\): Redirection #1 \\(${esc(name('moved'))}\\): http://${esc(name('moved'))}/\\.well-known/pki-validation/[0-9a-f]{32}\\.txt → http://${esc(HOST)}/\\.well-known/pki-validation/[0-9a-f]{32}\\.txt`,
      ),
    );
    expect(out).toContain(`Local HTTP DCV error (${name('slow')}): timeout: http://${name('slow')}/`);
    expect(out).toMatch(new RegExp(`Local HTTP DCV error \\(${esc(name('big'))}\\): wrong content: .* answered with more than 16 KiB`));
    expect(out).toContain(`Local HTTP DCV error (*.${HOST}): "*.${HOST}": a wildcard name cannot be validated over HTTP; use DNS validation`);
    expect(out).not.toMatch(new RegExp(`Local HTTP DCV (OK: |error \\()${esc(name('excluded'))}`));
    expect(out).toContain('2 of 9 name(s) passed local HTTP DCV.');
    expect(result.code).toBe(1);
    // Everything published was removed again (the excluded name was never published: no line names it).
    expect(await readdir(lab.docroot)).toEqual([]);
    expect(await readdir(join(lab.dir, 'state-sectigo.json', 'dcv-http', 'published'))).toEqual([]);
  }, 90_000);

  it('follows a redirect within RFC 8555 limits when the probe stands for an ACME CA, and logs it', async () => {
    const file = await config('acme.json', [name('moved')], {}, { probeRedirects: 'acme' });
    const human = await runCli(['dcv', '--config', file]);
    expect(human.stdout).toContain(`Local HTTP DCV OK: ${name('moved')}\n`);
    expect(human.stdout).toContain('2 of 2 name(s) passed local HTTP DCV.');
    expect(human.code).toBe(0);
    const json = await runCli(['dcv', '--config', file, '--json']);
    const report = JSON.parse(json.stdout) as { passed: string[]; validations: { name: string; ok: boolean; reason?: string }[] };
    expect(report.passed).toEqual([HOST, name('moved')]);
    expect(report.validations.find((v) => v.name === name('moved'))?.reason).toMatch(
      new RegExp(
        `^followed Redirection #1 \\(${esc(name('moved'))}\\): http://${esc(name('moved'))}/\\.well-known/pki-validation/[0-9a-f]{32}\\.txt → http://${esc(HOST)}/`,
      ),
    );
    expect(await readdir(lab.docroot)).toEqual([]);
  }, 90_000);

  it("follows the redirect as the ACME issuer's CA does, with the plugin's probeRedirects left at its default", async () => {
    // The issuer says how its CA follows redirects (RFC 8555 section 8.3): the probe does the same, no setting needed.
    const file = await config('acme-issuer.json', [name('moved')], {
      issuers: ['acme'],
      plugins: [
        { module: '@certsmith/dcv-http', options: { docroot: lab.docroot, readTimeoutMs: 2_000 } },
        { module: '@certsmith/issuer-acme', options: { directoryUrl: 'https://127.0.0.1:9/directory' } },
      ],
    });
    const result = await runCli(['dcv', '--config', file]);
    expect(result.stdout).toContain(`Local HTTP DCV OK: ${name('moved')}\n`);
    expect(result.stdout).toContain('2 of 2 name(s) passed local HTTP DCV.');
    expect(result.code).toBe(0);
  }, 90_000);

  it('checks before ordering in `certsmith check`: a failing name is dropped with a warning, the hostname goes on', async () => {
    // An ACME issuer with a directory where nothing listens: the local pre-check runs first, then the CA fails and the
    // self-signed fallback takes over, as on a server whose CA is down.
    const file = await config('check.json', [name('www')], {
      issuers: ['acme', 'selfsigned'],
      plugins: [
        { module: '@certsmith/dcv-http', options: { docroot: lab.docroot, readTimeoutMs: 2_000 } },
        { module: '@certsmith/issuer-acme', options: { directoryUrl: 'https://127.0.0.1:9/directory' } },
      ],
    });
    const result = await runCli(['check', '--config', file]);
    const out = result.stdout;
    expect(out).toContain(`Local HTTP DCV OK: ${HOST}\n`);
    expect(out).toContain(`Local HTTP DCV error (${name('www')}): ${name('www')} resolves to the private address ${elsewhere}`);
    expect(out).toMatch(new RegExp(`Warning \\(validate, ${esc(name('www'))}\\): DCV_HTTP_PRIVATE_ADDRESS: .* → drop this name from the order`));
    expect(out).toMatch(/\((issue, )?issuer acme\)/);
    expect(out).toContain('Issued by "selfsigned"');
    expect(await readdir(lab.docroot)).toEqual([]);
  }, 90_000);

  it('shows the DNS path from the lab root with --verbose', async () => {
    const file = await config('verbose.json', []);
    const result = await runCli(['dcv', '--config', file, '--verbose']);
    expect(result.stdout).toContain(`DNS ${HOST}: ${lab.nginx.address} (via `);
    expect(result.stdout).toContain(lab.dns.addresses.root);
    expect(result.stdout).toContain(`Local HTTP DCV OK: ${HOST}`);
    expect(result.code).toBe(0);
  }, 90_000);

  it('refuses a docroot that is missing, or that links outside itself, and writes nothing there', async () => {
    const missing = await config('missing-docroot.json', [], {}, { docroot: './no-such-docroot' });
    const gone = await runCli(['dcv', '--config', missing]);
    expect(gone.stdout).toContain(
      `Local HTTP DCV error (${HOST}): options.docroot of @certsmith/dcv-http: the docroot ${join(lab.dir, 'no-such-docroot')} does not exist`,
    );
    expect(gone.code).toBe(1);

    const linked = join(lab.dir, 'linked');
    const outside = join(lab.dir, 'outside');
    await mkdir(linked);
    await mkdir(outside);
    await mustRun('ln', ['-s', outside, join(linked, '.well-known')]);
    const file = await config('symlink-docroot.json', [], {}, { docroot: linked });
    const refused = await runCli(['dcv', '--config', file]);
    expect(refused.stdout).toContain(
      `Local HTTP DCV error (${HOST}): options.docroot of @certsmith/dcv-http: ${join(linked, '.well-known')} is a symlink to ${outside}, outside the docroot`,
    );
    expect(await readdir(outside)).toEqual([]);
    expect(refused.code).toBe(1);
  }, 90_000);

  it('leaves a file of an interrupted run behind no longer than the next run', async () => {
    const file = await config('leftover.json', []);
    const state = join(lab.dir, 'state-leftover.json', 'dcv-http', 'published');
    await mkdir(state, { recursive: true });
    await mkdir(join(lab.docroot, '.well-known', 'pki-validation'), { recursive: true });
    const leftover = join(lab.docroot, '.well-known', 'pki-validation', 'ABCDEF0123456789ABCDEF0123456789.txt');
    await writeFile(leftover, 'left by a killed run');
    const sha256 = (await mustRun('sha256sum', [leftover])).split(' ')[0];
    // What a run killed between publish and cleanup leaves in its ledger (pid 2^22+1 is never a live process here).
    await writeFile(
      join(state, 'killed.json'),
      JSON.stringify({
        file: leftover,
        sha256,
        createdDirs: [join(lab.docroot, '.well-known', 'pki-validation'), join(lab.docroot, '.well-known')],
        pid: 4_194_305,
        createdAt: new Date().toISOString(),
      }),
    );
    const result = await runCli(['dcv', '--config', file]);
    expect(result.stdout).toContain(`Local HTTP DCV OK: ${HOST}`);
    expect(await readdir(lab.docroot)).toEqual([]);
    expect(await readdir(state)).toEqual([]);
    expect(await readFile(join(lab.nginx.dir, 'access.log'), 'utf8')).not.toContain('ABCDEF0123456789');
  }, 90_000);
});

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
