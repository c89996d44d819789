// HttpFileDcv against a real nginx (Debian's) on a loopback address; the resolver is faked here (names → addresses),
// the real iterative resolver with BIND is exercised by the CLI's end-to-end test.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type Challenge, type DnsResolvedEvent, type Resolution, type Resolver, type Target } from '@certsmith/core';
import { IPV6_LOOPBACK, holdIpv6Loopback, labDir, mustRun, randomLoopback, startNginx, type Nginx } from '@certsmith/testlab';
import { LOOPBACK_ONLY } from '@certsmith/dns';
import { HttpFileDcv, type HttpFileDcvSettings } from './http-file-dcv.js';

const target: Target = { id: 'hostname', names: [], services: [], kind: 'hostname' };

class FakeResolver implements Resolver {
  constructor(private readonly table: Record<string, string[] | 'nxdomain'>) {}
  async resolveAddresses(name: string): Promise<Resolution> {
    const entry = this.table[name];
    if (entry === undefined || entry === 'nxdomain') return { name, outcome: 'nxdomain', addresses: [], chosen: null, cnames: [], path: ['fake'] };
    // As the iterative resolver does: a private first address that is not the server's is an 'error' outcome.
    const outcome = entry[0] === elsewhere ? 'error' : 'ok';
    return {
      name,
      outcome,
      addresses: entry,
      chosen: entry[0] ?? null,
      cnames: [],
      path: ['fake root', 'fake auth'],
      detail: outcome === 'error' ? 'private' : undefined,
    };
  }
}

let nginx: Nginx;
let lab: { path: string; cleanup: () => Promise<void> };
let docroot: string;
let settings: HttpFileDcvSettings;
let table: Record<string, string[] | 'nxdomain'>;
const elsewhere = randomLoopback();

beforeAll(async () => {
  lab = await labDir('dcv-http');
  docroot = join(lab.path, 'html');
  const bigRoot = join(lab.path, 'big');
  await mkdir(bigRoot, { recursive: true });
  await writeFile(join(bigRoot, 'big.bin'), Buffer.alloc(1024 * 1024, 0x61));
  await mustRun('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=ok.example.test',
    '-keyout',
    join(lab.path, 'tls.key'),
    '-out',
    join(lab.path, 'tls.crt'),
  ]);
  const wk = (body: string) => `    location /.well-known/ { ${body} }\n`;
  nginx = await startNginx({
    address: randomLoopback(),
    sites: [
      { serverNames: ['ok.example.test', 'www.ok.example.test'], docroot, tls: { certFile: join(lab.path, 'tls.crt'), keyFile: join(lab.path, 'tls.key') } },
      { serverNames: ['missing.example.test'], docroot, extra: wk('return 404;') },
      { serverNames: ['moved.example.test'], docroot, extra: wk('return 301 http://ok.example.test$request_uri;') },
      { serverNames: ['moved-tls.example.test'], docroot, extra: wk('return 302 https://ok.example.test$request_uri;') },
      { serverNames: ['moved-port.example.test'], docroot, extra: wk('return 301 http://ok.example.test:8080$request_uri;') },
      { serverNames: ['loop.example.test'], docroot, extra: wk('return 301 http://loop.example.test$request_uri;') },
      { serverNames: ['slow.example.test'], docroot, extra: wk('limit_rate 1;') },
      { serverNames: ['big.example.test'], docroot: bigRoot, extra: wk('rewrite ^ /big.bin break;') },
      { serverNames: ['other.example.test'], docroot, extra: wk('return 200 "another site";') },
    ],
  });
  table = {
    'ok.example.test': [nginx.address],
    'www.ok.example.test': [nginx.address],
    'missing.example.test': [nginx.address],
    'moved.example.test': [nginx.address],
    'moved-tls.example.test': [nginx.address],
    'moved-port.example.test': [nginx.address],
    'loop.example.test': [nginx.address],
    'slow.example.test': [nginx.address],
    'big.example.test': [nginx.address],
    'other.example.test': [nginx.address],
    'xn--bcher-kva.example.test': [nginx.address],
    'elsewhere.example.test': [elsewhere, nginx.address],
    'public.example.test': ['203.0.113.7'],
  };
  settings = {
    docroot,
    docroots: {},
    serverAddresses: [nginx.address],
    ledgerDir: join(lab.path, 'state', 'dcv-http', 'published'),
    probeRedirects: 'none',
    limits: { connectTimeoutMs: 2_000, readTimeoutMs: 1_500, maxBodyBytes: 16 * 1024 },
  };
});

afterAll(async () => {
  await nginx?.stop();
  await lab?.cleanup();
});

function probe(name: string): Challenge {
  return { kind: 'probe', name, token: Buffer.from(name).toString('hex').slice(0, 32).padEnd(32, '0'), content: `probe for ${name}` };
}

async function validate(dcv: HttpFileDcv, challenge: Challenge) {
  const published = await dcv.publish(challenge, target, AbortSignal.timeout(10_000));
  try {
    return { published, verdict: await dcv.check(published, AbortSignal.timeout(20_000)) };
  } finally {
    await dcv.cleanup(published);
  }
}

describe('HttpFileDcv with nginx', () => {
  it('publishes the probe 0644 in pki-validation, proves it through the first address with the Host header, removes it, and its folders at the end of the run', async () => {
    const bus = createBus();
    const resolved: DnsResolvedEvent[] = [];
    bus.on('dns-resolved', (e) => resolved.push(e));
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), bus);
    const published = await dcv.publish(probe('OK.Example.Test.'), target, AbortSignal.timeout(5_000));
    const file = join(docroot, '.well-known/pki-validation', `${Buffer.from('OK.Example.Test.').toString('hex').slice(0, 32)}.txt`);
    expect(published.where).toContain(`http://ok.example.test/.well-known/pki-validation/`);
    const st = spawnSync('stat', ['-c', '%a', file], { encoding: 'utf8' });
    expect(st.stdout.trim()).toBe('644');
    expect(await dcv.check(published, AbortSignal.timeout(10_000))).toEqual({ name: 'OK.Example.Test.', ok: true });
    await dcv.cleanup(published);
    // The file is gone; the folders stay for the run's next challenge, until its end (close()).
    expect(await readdir(join(docroot, '.well-known'))).toEqual(['pki-validation']);
    expect(await readdir(join(docroot, '.well-known', 'pki-validation'))).toEqual([]);
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
    expect(resolved).toEqual([{ name: 'ok.example.test', addresses: [nginx.address], path: ['fake root', 'fake auth'], chosen: nginx.address }]);
    const log = await readFile(join(nginx.dir, 'access.log'), 'utf8');
    expect(log).toMatch(/GET \/\.well-known\/pki-validation\/[0-9a-f]{32}\.txt HTTP\/1\.1" 200/);
  });

  it('names that share a probe share one file: written once, proved per name, removed after the last name', async () => {
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    const shared = { token: 'ab'.repeat(16), content: 'one probe for the target' };
    const names = ['ok.example.test', 'www.ok.example.test', 'other.example.test'];
    const published = await Promise.all(names.map((name) => dcv.publish({ kind: 'probe', name, ...shared }, target, AbortSignal.timeout(5_000))));
    const dir = join(docroot, '.well-known/pki-validation');
    expect(await readdir(dir)).toEqual([`${'ab'.repeat(16)}.txt`]);
    expect(published.map((p) => p.where)).toEqual(
      names.map((n) => `http://${n}/.well-known/pki-validation/${'ab'.repeat(16)}.txt (${join(dir, `${'ab'.repeat(16)}.txt`)})`),
    );
    const verdicts = await Promise.all(published.map((p) => dcv.check(p, AbortSignal.timeout(10_000))));
    expect(verdicts.map((v) => v.ok)).toEqual([true, true, false]); // other.example.test answers "another site"
    await dcv.cleanup(published[0]!);
    await dcv.cleanup(published[0]!); // twice is once
    expect(await readdir(dir)).toHaveLength(1); // still used by the other names
    expect((await dcv.check(published[1]!, AbortSignal.timeout(10_000))).ok).toBe(true);
    await dcv.cleanup(published[1]!);
    await dcv.cleanup(published[2]!);
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
    // Another probe with the same token but other content is not the shared one: refused as someone else's file.
    const first = await dcv.publish({ kind: 'probe', name: 'ok.example.test', ...shared }, target, AbortSignal.timeout(5_000));
    await expect(
      dcv.publish({ kind: 'probe', name: 'www.ok.example.test', ...shared, content: 'other' }, target, AbortSignal.timeout(5_000)),
    ).rejects.toMatchObject({ code: 'DCV_HTTP_FILE_EXISTS' });
    await dcv.cleanup(first);
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
  });

  it('serves http-01 and the Sectigo file at their paths, IDNs by their A-label', async () => {
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    const acme = await validate(dcv, {
      kind: 'http-file',
      name: 'bücher.example.test',
      path: '/.well-known/acme-challenge/tok_EN-123456789',
      body: 'tok_EN-123456789.thumbprint',
      redirects: 'acme',
    });
    expect(acme.verdict.ok).toBe(true);
    expect(acme.published.where).toContain('http://xn--bcher-kva.example.test/.well-known/acme-challenge/tok_EN-123456789');
    const sectigo = await validate(
      dcv,
      // A file fetched without redirects, as Sectigo's (the issuer-sectigo plugin builds it from the CSR).
      {
        kind: 'http-file',
        name: 'www.ok.example.test',
        path: `/.well-known/pki-validation/${'AB'.repeat(16)}.txt`,
        body: `${'cd'.repeat(32)}\nsectigo.com\nu1`,
        redirects: 'none',
      },
    );
    expect(sectigo.verdict.ok).toBe(true);
    expect(sectigo.published.where).toContain(`/.well-known/pki-validation/${'AB'.repeat(16)}.txt`);
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
  });

  it('gives reasons that say what to fix', async () => {
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    const cases: [string, string, RegExp][] = [
      ['nowhere.example.test', 'DCV_HTTP_NO_ADDRESS', /nowhere\.example\.test does not resolve \(NXDOMAIN\): create an A or AAAA record/],
      [
        'elsewhere.example.test',
        'DCV_HTTP_PRIVATE_ADDRESS',
        new RegExp(`resolves to the private address ${elsewhere.replace(/\./g, '\\.')}, which is not one of this server's \\(server\\.addresses\\)`),
      ],
      ['public.example.test', 'DCV_HTTP_NOT_THIS_SERVER', /resolves to 203\.0\.113\.7, which is not one of this server's addresses/],
      ['missing.example.test', 'DCV_HTTP_NOT_FOUND', /^404: http:\/\/missing\.example\.test\/.* was not found; the web server does not serve/],
      ['other.example.test', 'DCV_HTTP_WRONG_CONTENT', /wrong content: .* answered 12 bytes \("another site"\)/],
      ['big.example.test', 'DCV_HTTP_WRONG_CONTENT', /answered with more than 16 KiB/],
      ['slow.example.test', 'DCV_HTTP_TIMEOUT', /^timeout: .* did not (answer within 1\.5 s|finish answering within 3\.5 s)/],
      [
        'moved.example.test',
        'DCV_HTTP_REDIRECT_NOT_ALLOWED',
        /^redirect not allowed \(the CA follows none\): Redirection #1 \(moved\.example\.test\): http:\/\/moved\.example\.test\/\.well-known\/pki-validation\/\w+\.txt → http:\/\/ok\.example\.test\/\.well-known\/pki-validation\/\w+\.txt/,
      ],
    ];
    const verdicts = await Promise.all(cases.map(([name]) => validate(dcv, probe(name))));
    for (const [index, [name, code, reason]] of cases.entries()) {
      expect(verdicts[index]!.verdict, name).toMatchObject({ name, ok: false, code, reason: expect.stringMatching(reason) });
    }
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
  });

  it('follows redirects within RFC 8555 limits for ACME, and logs them', async () => {
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    const http01 = (name: string): Challenge => ({
      kind: 'http-file',
      name,
      path: `/.well-known/acme-challenge/token-${name.split('.')[0]}-0123`,
      body: `ka-${name}`,
      redirects: 'acme',
    });
    const moved = await validate(dcv, http01('moved.example.test'));
    expect(moved.verdict).toMatchObject({
      ok: true,
      reason: expect.stringMatching(
        /^followed Redirection #1 \(moved\.example\.test\): http:\/\/moved\.example\.test\/\.well-known\/acme-challenge\/token-moved-0123 → http:\/\/ok\.example\.test\//,
      ),
    });
    const tls = await validate(dcv, http01('moved-tls.example.test'));
    expect(tls.verdict).toMatchObject({ ok: true, reason: expect.stringContaining('→ https://ok.example.test/') });
    const port = await validate(dcv, http01('moved-port.example.test'));
    expect(port.verdict).toMatchObject({
      ok: false,
      code: 'DCV_HTTP_REDIRECT_NOT_ALLOWED',
      reason: expect.stringMatching(/only to ports 80 and 443, not 8080/),
    });
    const loop = await validate(dcv, http01('loop.example.test'));
    expect(loop.verdict).toMatchObject({
      ok: false,
      code: 'DCV_HTTP_TOO_MANY_REDIRECTS',
      reason: expect.stringMatching(/more than 10 redirects: Redirection #11/),
    });
    const sectigo = await validate(dcv, {
      kind: 'http-file',
      name: 'moved.example.test',
      path: `/.well-known/pki-validation/${'EF'.repeat(16)}.txt`,
      body: `${'01'.repeat(32)}\nsectigo.com`,
      redirects: 'none',
    });
    expect(sectigo.verdict).toMatchObject({ ok: false, code: 'DCV_HTTP_REDIRECT_NOT_ALLOWED' });
    const following = new HttpFileDcv({ ...settings, probeRedirects: 'acme' }, new FakeResolver(table), undefined);
    const probeAcme = await validate(following, probe('moved.example.test'));
    expect(probeAcme.verdict.ok).toBe(true);
    await Promise.all([dcv.close(), following.close()]);
    expect(await readdir(docroot)).toEqual([]);
  });

  it('sends nothing to an address the address policy refuses (a test keeps every packet on loopback)', async () => {
    // 203.0.113.9 is one of this server's addresses here, so only the policy stands between the probe and the network.
    const far = { 'far.example.test': ['203.0.113.9'] };
    const dcv = new HttpFileDcv(
      { ...settings, serverAddresses: [nginx.address, '203.0.113.9'], addressPolicy: LOOPBACK_ONLY },
      new FakeResolver(far),
      undefined,
    );
    const { verdict } = await validate(dcv, probe('far.example.test'));
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toContain('not sent to 203.0.113.9: outside loopback');
    await dcv.close();
  });

  it('refuses wildcards and bad names before writing anything, and refuses without a resolver', async () => {
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    await expect(dcv.publish(probe('*.ok.example.test'), target, AbortSignal.timeout(1_000))).rejects.toMatchObject({ code: 'DCV_HTTP_WILDCARD' });
    await expect(dcv.publish(probe(`${'x'.repeat(64)}.example.test`), target, AbortSignal.timeout(1_000))).rejects.toMatchObject({ code: 'DCV_HTTP_BAD_NAME' });
    const blind = new HttpFileDcv(settings, undefined, undefined);
    await expect(blind.publish(probe('ok.example.test'), target, AbortSignal.timeout(1_000))).rejects.toMatchObject({ code: 'DCV_NO_RESOLVER' });
    const lost = new HttpFileDcv({ ...settings, docroot: join(lab.path, 'no-such-dir') }, new FakeResolver(table), undefined);
    await expect(lost.publish(probe('ok.example.test'), target, AbortSignal.timeout(1_000))).rejects.toThrowError(
      /options\.docroot of @certsmith\/dcv-http: the docroot .* does not exist/,
    );
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
  });

  it('takes over a leftover of the same challenge, so that publishing it again and cleaning up removes it (how an issuer tidies)', async () => {
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    const challenge: Challenge = {
      kind: 'http-file',
      name: 'ok.example.test',
      path: '/.well-known/acme-challenge/leftover-token-1',
      body: 'leftover-token-1.thumb',
      redirects: 'acme',
    };
    await dcv.publish(challenge, target, AbortSignal.timeout(5_000)); // a run that never cleaned up
    await dcv.cleanup(await dcv.publish(challenge, target, AbortSignal.timeout(5_000)));
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
    expect(await readdir(settings.ledgerDir)).toHaveLength(1); // the first publish's entry: swept by a later process
    await rm(settings.ledgerDir, { recursive: true });
  });

  it('removes leftovers of an interrupted run that it recognises as its own, and only those', async () => {
    const dir = join(docroot, '.well-known/pki-validation');
    await mkdir(dir, { recursive: true });
    const ours = join(dir, 'LEFTOVER.txt');
    const changed = join(dir, 'CHANGED.txt');
    const forgotten = join(dir, 'FORGOTTEN.txt');
    await writeFile(ours, 'ours');
    await writeFile(changed, 'was ours');
    await writeFile(forgotten, 'cleaned up by its run');
    // The journal of a process that is gone (this test's child exits at once), killed while writing its last line.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(dead.stdout.trim());
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const createdDirs = [dir, join(docroot, '.well-known')];
    await mkdir(settings.ledgerDir, { recursive: true });
    await writeFile(
      join(settings.ledgerDir, `${pid}-1-abcd.jsonl`),
      [
        { pid, startedAt: '2026-12-04T10:00:00.000Z' },
        { add: 'a', file: ours, sha256: sha('ours'), createdDirs: [], createdAt: '2026-12-04T10:00:00.000Z' },
        { dirs: 'a', createdDirs },
        { add: 'b', file: changed, sha256: sha('was ours'), createdDirs, createdAt: '2026-12-04T10:00:00.000Z' },
        { add: 'c', file: forgotten, sha256: sha('cleaned up by its run'), createdDirs, createdAt: '2026-12-04T10:00:00.000Z' },
        { forget: 'c' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n') + '\n{"forget": "a"',
    );
    // A live process's journal is left alone.
    await writeFile(
      join(settings.ledgerDir, `${process.ppid}-1-live.jsonl`),
      `${JSON.stringify({ pid: process.ppid, startedAt: '2026-12-04T10:00:00.000Z' })}\n${JSON.stringify({ add: 'x', file: forgotten, sha256: sha('cleaned up by its run'), createdDirs: [] })}\n`,
    );
    await writeFile(changed, 'the admin put something else here');
    const dcv = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    const { verdict } = await validate(dcv, probe('ok.example.test'));
    expect(verdict.ok).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['CHANGED.txt', 'FORGOTTEN.txt']);
    // Left: the live process's journal, and this process's own (emptied, removed when it exits).
    expect((await readdir(settings.ledgerDir)).filter((n) => !n.startsWith(`${process.pid}-`))).toEqual([`${process.ppid}-1-live.jsonl`]);
    await rm(join(settings.ledgerDir, `${process.ppid}-1-live.jsonl`));
    await rm(forgotten);
    await writeFile(changed, '').then(() => mustRun('rm', ['-r', join(docroot, '.well-known')]));
  });
});

// A name with AAAA and A: the A address is the nginx above (its default server serves the docroot), the AAAA address
// is ::1, where a second nginx serves an empty root (404), another site's text, or nothing at all (refused).
describe('HttpFileDcv with AAAA and A', () => {
  let nginx6: Nginx | undefined;
  let release: (() => Promise<void>) | undefined;
  let dual: HttpFileDcvSettings;
  beforeAll(async () => {
    release = await holdIpv6Loopback();
    nginx6 = await startNginx({
      address: IPV6_LOOPBACK,
      sites: [
        { serverNames: ['dual.example.test'], docroot: join(lab.path, 'empty6') },
        { serverNames: ['other6.example.test'], docroot: join(lab.path, 'empty6'), extra: '    location /.well-known/ { return 200 "another site"; }\n' },
      ],
    });
    for (const name of ['dual', 'other6', 'refused6', 'both404']) table[`${name}.example.test`] = [IPV6_LOOPBACK, nginx.address];
    table['v6only.example.test'] = [IPV6_LOOPBACK];
    dual = { ...settings, serverAddresses: [nginx.address, IPV6_LOOPBACK] };
  }, 60_000);
  afterAll(async () => {
    await nginx6?.stop();
    await release?.();
  });

  it('fails the name with AAAA_UNREACHABLE, both addresses and what failed, when the IPv6 answer is not the file, for both preferences', async () => {
    const ipv6 = new HttpFileDcv(dual, new FakeResolver(table), undefined);
    for (const addressPreference of ['ipv6', 'ipv6-then-ipv4', 'first'] as const) {
      for (const [name, short] of [
        ['dual.example.test', '404'],
        ['other6.example.test', 'wrong content'],
      ]) {
        const published = await ipv6.publish(probe(name!), target, AbortSignal.timeout(5_000));
        try {
          const verdict = await ipv6.check(published, AbortSignal.timeout(20_000), { addressPreference });
          expect(verdict, `${name} ${addressPreference}`).toEqual({
            name,
            ok: false,
            code: 'AAAA_UNREACHABLE',
            reason: expect.stringContaining(`${name}: the file is not served over [::1] (${short}) but is over ${nginx.address}; `),
          });
        } finally {
          await ipv6.cleanup(published);
        }
      }
    }
    // Both addresses were asked: ::1 answered 404 for the file the A address served.
    expect(await readFile(join(nginx6!.dir, 'access.log'), 'utf8')).toMatch(/GET \/\.well-known\/pki-validation\/[0-9a-f]{32}\.txt HTTP\/1\.1" 404/);
    await ipv6.close();
    expect(await readdir(docroot)).toEqual([]);
  });

  it('keeps the first-address rule without a preference, and a name with AAAA only as it was', async () => {
    const dcv = new HttpFileDcv(dual, new FakeResolver(table), undefined);
    expect((await validate(dcv, probe('dual.example.test'))).verdict).toMatchObject({
      ok: false,
      code: 'AAAA_UNREACHABLE',
      reason: expect.stringContaining('the first address decides'),
    });
    expect((await validate(dcv, probe('v6only.example.test'))).verdict).toMatchObject({
      ok: false,
      code: 'DCV_HTTP_NOT_FOUND',
      reason: expect.stringMatching(/^404: http:\/\/v6only\.example\.test\/.* \(at ::1\) was not found/),
    });
    // ::1 not listed as this server's: a CA could not reach it either.
    const strict = new HttpFileDcv(settings, new FakeResolver(table), undefined);
    expect((await validate(strict, probe('dual.example.test'))).verdict).toMatchObject({
      ok: false,
      code: 'AAAA_UNREACHABLE',
      reason: expect.stringContaining("not served over [::1] (a private address that is not this server's) but is over"),
    });
  });

  it("passes with a warning when nothing listens on ::1 and the CA retries over IPv4 (Let's Encrypt); fails when the AAAA address decides", async () => {
    await nginx6!.stop();
    nginx6 = undefined;
    const dcv = new HttpFileDcv(dual, new FakeResolver(table), undefined);
    const published = await dcv.publish(probe('refused6.example.test'), target, AbortSignal.timeout(5_000));
    try {
      expect(await dcv.check(published, AbortSignal.timeout(20_000), { addressPreference: 'ipv6-then-ipv4' })).toEqual({
        name: 'refused6.example.test',
        ok: true,
        warnings: [
          {
            code: 'AAAA_UNREACHABLE',
            message: expect.stringMatching(
              new RegExp(
                `^refused6\\.example\\.test: the file is not served over \\[::1\\] \\(connection refused\\) but is over ${nginx.address.replace(/\./g, '\\.')}; the CA retries over IPv4`,
              ),
            ),
          },
        ],
      });
      for (const addressPreference of ['ipv6', 'first'] as const) {
        expect(await dcv.check(published, AbortSignal.timeout(20_000), { addressPreference })).toMatchObject({
          ok: false,
          code: 'AAAA_UNREACHABLE',
          reason: expect.stringContaining(`refused6.example.test: the file is not served over [::1] (connection refused) but is over ${nginx.address}`),
        });
      }
    } finally {
      await dcv.cleanup(published);
    }
    await dcv.close();
    expect(await readdir(docroot)).toEqual([]);
  });
});
