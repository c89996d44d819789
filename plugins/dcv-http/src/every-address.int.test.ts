// The file over every address of a name, against real nginx servers on loopback addresses: two serve the docroot,
// one serves an empty root (404), and on one nothing listens. The resolver is faked (names → addresses in a fixed
// order), so that which address comes first is the test's to say; the real resolver is exercised by the CLI's test.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressPreference, Challenge, Resolution, Resolver, Target } from '@certsmith/core';
import { IPV6_LOOPBACK, holdIpv6Loopback, labDir, randomLoopback, startNginx, type Nginx } from '@certsmith/testlab';
import { HttpFileDcv, type HttpFileDcvSettings } from './http-file-dcv.js';

const target: Target = { id: 'hostname', names: [], services: [], kind: 'hostname' };

class TableResolver implements Resolver {
  constructor(private readonly table: Record<string, string[]>) {}
  async resolveAddresses(name: string): Promise<Resolution> {
    const addresses = this.table[name] ?? [];
    return { name, outcome: addresses.length ? 'ok' : 'nxdomain', addresses, chosen: addresses[0] ?? null, cnames: [], path: ['table'] };
  }
}

let lab: { path: string; cleanup: () => Promise<void> };
const servers: Nginx[] = [];
let serving: string;
let serving2: string;
let empty: string;
const silent = randomLoopback();
let dcv: HttpFileDcv;
let table: Record<string, string[]>;
let settings: HttpFileDcvSettings;

beforeAll(async () => {
  lab = await labDir('dcv-http-every');
  const docroot = join(lab.path, 'html');
  const started = await Promise.all([
    startNginx({ address: randomLoopback(), sites: [{ serverNames: ['_'], docroot }] }),
    startNginx({ address: randomLoopback(), sites: [{ serverNames: ['_'], docroot }] }),
    startNginx({ address: randomLoopback(), sites: [{ serverNames: ['_'], docroot: join(lab.path, 'empty') }] }),
  ]);
  servers.push(...started);
  [serving, serving2, empty] = started.map((s) => s.address) as [string, string, string];
  table = {
    'split.example.test': [serving, empty],
    'split3.example.test': [serving, empty, silent],
    'same.example.test': [serving, serving2],
    'none.example.test': [empty, silent],
    'late.example.test': [empty, serving],
    'one.example.test': [serving],
  };
  settings = {
    docroot,
    docroots: {},
    serverAddresses: [serving, serving2, empty, silent, IPV6_LOOPBACK],
    ledgerDir: join(lab.path, 'state'),
    probeRedirects: 'none',
    limits: { connectTimeoutMs: 2_000, readTimeoutMs: 1_500, maxBodyBytes: 16 * 1024 },
  };
  dcv = new HttpFileDcv(settings, new TableResolver(table), undefined);
}, 60_000);

afterAll(async () => {
  await dcv?.close();
  await Promise.all(servers.map((s) => s.stop()));
  await lab?.cleanup();
});

function probe(name: string): Challenge {
  return { kind: 'probe', name, token: Buffer.from(name).toString('hex').slice(0, 32).padEnd(32, '0'), content: `probe for ${name}` };
}

async function check(name: string, addressPreference?: AddressPreference, on: HttpFileDcv = dcv) {
  const published = await on.publish(probe(name), target, AbortSignal.timeout(5_000));
  try {
    return await on.check(published, AbortSignal.timeout(20_000), addressPreference ? { addressPreference } : {});
  } finally {
    await on.cleanup(published);
  }
}

describe("'every': the file over each A and AAAA address", () => {
  it('drops a name that one address serves and another does not, naming each address and what it got', async () => {
    expect(await check('split.example.test', 'every')).toEqual({
      name: 'split.example.test',
      ok: false,
      code: 'DCV_HTTP_ADDRESS_DISAGREES',
      reason: `split.example.test: ${empty} (A) answered 404 while ${serving} (A) served the file; the CA validates from several network perspectives and may use any address: serve the file on every address (the same docroot) or remove the records of those that do not`,
    });
    expect(await check('split3.example.test', 'every')).toMatchObject({
      ok: false,
      code: 'DCV_HTTP_ADDRESS_DISAGREES',
      reason: expect.stringContaining(
        `split3.example.test: ${empty} (A) answered 404, ${silent} (A) refused the connection while ${serving} (A) served the file;`,
      ),
    });
  });

  it('passes a name that every address serves, and a name with one address as before', async () => {
    expect(await check('same.example.test', 'every')).toEqual({ name: 'same.example.test', ok: true });
    expect(await check('one.example.test', 'every')).toEqual({ name: 'one.example.test', ok: true });
  });

  it('when no address serves the file: the first address fails the name, with what the others did', async () => {
    expect(await check('none.example.test', 'every')).toMatchObject({
      ok: false,
      code: 'DCV_HTTP_NOT_FOUND',
      reason: expect.stringMatching(
        new RegExp(`^404: .* \\(at ${empty.replace(/\./g, '\\.')}\\) was not found.*\\(${silent.replace(/\./g, '\\.')} \\(A\\) refused the connection\\)$`),
      ),
    });
  });
});

describe('the preferences that pick their addresses', () => {
  it('keep the name the picked address serves, with a warning naming the other address that does not', async () => {
    for (const preference of [undefined, 'first', 'ipv6', 'ipv6-then-ipv4'] as const) {
      expect(await check('split.example.test', preference), String(preference)).toEqual({
        name: 'split.example.test',
        ok: true,
        warnings: [
          {
            code: 'DCV_HTTP_ADDRESS_DISAGREES',
            message: `split.example.test: ${empty} (A) answered 404 while ${serving} (A) served the file; this CA fetches from the address it picks, so the name passes, but a CA that validates from several perspectives would fail it: serve the file on every address or remove the records of those that do not`,
          },
        ],
      });
    }
  });

  it('fail the name as before when the picked address does not serve it, without a warning', async () => {
    expect(await check('late.example.test', 'first')).toEqual({
      name: 'late.example.test',
      ok: false,
      code: 'DCV_HTTP_NOT_FOUND',
      reason: expect.stringContaining(`(at ${empty}) was not found`),
    });
  });
});

describe("'every' with AAAA and A", () => {
  let nginx6: Nginx | undefined;
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    release = await holdIpv6Loopback();
    nginx6 = await startNginx({ address: IPV6_LOOPBACK, sites: [{ serverNames: ['_'], docroot: join(lab.path, 'empty6') }] });
    table['dual.example.test'] = [IPV6_LOOPBACK, serving, serving2];
  }, 60_000);
  afterAll(async () => {
    await nginx6?.stop();
    await release?.();
  });

  it('is AAAA_UNREACHABLE when every A address serves the file and the AAAA address does not', async () => {
    expect(await check('dual.example.test', 'every')).toMatchObject({
      ok: false,
      code: 'AAAA_UNREACHABLE',
      reason: expect.stringContaining(`dual.example.test: ::1 (AAAA) answered 404 while ${serving} (A), ${serving2} (A) served the file;`),
    });
  });
});

describe('the dry run (precheck) judges the addresses as check() does, publishing nothing', () => {
  const precheck = (name: string, addressPreference: AddressPreference) => dcv.precheck(name, target, AbortSignal.timeout(20_000), { addressPreference });

  it("'every' drops a name one of whose addresses has no web server, naming it", async () => {
    expect(await precheck('split3.example.test', 'every')).toMatchObject({
      ok: false,
      code: 'DCV_HTTP_ADDRESS_DISAGREES',
      reason: expect.stringContaining(`split3.example.test: ${silent} (A) refused the connection while ${serving} (A), ${empty} (A) answered;`),
    });
    expect(await precheck('same.example.test', 'every')).toEqual({ name: 'same.example.test', ok: true });
  });

  it('the preferences that pick their addresses keep the name, with the address as a warning', async () => {
    expect(await precheck('split3.example.test', 'first')).toMatchObject({
      ok: true,
      warnings: [{ code: 'DCV_HTTP_ADDRESS_DISAGREES', message: expect.stringContaining(`${silent} (A) refused the connection while`) }],
    });
  });
});
