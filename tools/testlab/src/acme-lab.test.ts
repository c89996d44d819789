import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAcmeLab, type AcmeLab } from './acme-lab.js';
import { mustRun } from './process.js';

const HOST = `lab-${randomBytes(3).toString('hex')}.example.test`;
const WWW = `www.${HOST}`;
const ELSEWHERE = `elsewhere.${HOST}`;

describe('startAcmeLab', () => {
  let lab: AcmeLab;
  beforeAll(async () => {
    lab = await startAcmeLab({
      name: 'acme-lab-test',
      webNames: [HOST],
      extraSites: ({ docroot }) => [{ serverNames: [WWW], docroot }],
      records: [`update add ${ELSEWHERE}. 60 IN A 192.0.2.99`],
    });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('points every name nginx serves at it, adds the extra records, and serves the docroot', async () => {
    for (const name of [HOST, WWW]) expect(await lab.dns.dig(lab.dns.addresses.primary, name, 'A')).toBe(lab.nginx.address);
    expect(await lab.dns.dig(lab.dns.addresses.primary, ELSEWHERE, 'A')).toBe('192.0.2.99');
    await writeFile(join(lab.docroot, 'probe.txt'), 'hello');
    const response = await request(`http://${lab.nginx.address}/probe.txt`, { headers: { host: WWW } });
    expect({ status: response.statusCode, body: await response.body.text() }).toEqual({ status: 200, body: 'hello' });
    expect(await lab.webHits('/probe.txt')).toBe(1);
  });

  it('gives an issuer its CA root and EAB key as files (the key 0600), and writes configs over the lab defaults', async () => {
    const access = await lab.acmeIssuerOptions('one');
    expect(access).toEqual({ directoryUrl: lab.pebble.directoryUrl, caFile: './one-ca.pem', eab: { kid: lab.pebble.eab.kid, keyFile: './one.eab' } });
    expect(await readFile(join(lab.dir, 'one-ca.pem'), 'utf8')).toBe(lab.pebble.tlsCaPem);
    expect(await readFile(join(lab.dir, 'one.eab'), 'utf8')).toBe(`${lab.pebble.eab.hmacKey}\n`);
    expect((await stat(join(lab.dir, 'one.eab'))).mode & 0o777).toBe(0o600);
    expect((await lab.acmeIssuerOptions('two', { eab: { kid: 'kid-other' } })).eab.kid).toBe('kid-other');
    expect(await readFile(join(lab.dir, 'two.eab'), 'utf8')).toBe(`${lab.pebble.eab.hmacKey}\n`);

    const file = await lab.writeConfig('one', { profile: 'dnsonly', server: undefined, plugins: [lab.httpDcvPlugin] });
    expect(file).toBe(join(lab.dir, 'one.json'));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      paths: { stateDir: './state-one', sslDir: './ssl-one' },
      inspection: { live: false },
      dns: { rootHints: lab.dns.rootHintsFile, port: 53 },
      profile: 'dnsonly',
      plugins: [{ module: '@certsmith/dcv-http', options: { docroot: lab.docroot } }],
    });
    expect(await lab.copyTsigKey()).toBe('./tsig.key');
    expect((await stat(join(lab.dir, 'tsig.key'))).mode & 0o777).toBe(0o600);
  });

  it('a server that cannot start fails the lab with its own output, and what did start is stopped and removed', async () => {
    const name = `acme-lab-fail-${randomBytes(3).toString('hex')}`;
    // The servers a lab starts are this process's children; the lab above has its own running.
    const children = async () => (await mustRun('ps', ['--ppid', String(process.pid), '-o', 'comm='])).split('\n').filter(Boolean).sort();
    const before = await children();
    expect(before).toContain('named');
    // BIND starts (it is slower than nginx's refusal) and must be stopped again.
    const failed = startAcmeLab({
      name,
      webNames: [HOST],
      extraSites: ({ docroot }) => [{ serverNames: [WWW], docroot, extra: '    no_such_directive on;\n' }],
    });
    await expect(failed).rejects.toThrow(/nginx rejected its config:[\s\S]*unknown directive "no_such_directive"/);
    expect(await children()).toEqual(before);
    expect((await readdir(tmpdir())).filter((entry) => entry.startsWith(`certsmith-${name}-`))).toEqual([]);
  }, 120_000);
});
