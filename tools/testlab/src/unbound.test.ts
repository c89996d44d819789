import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsLab, type DnsLab } from './bind.js';
import { startUnbound, type Unbound } from './unbound.js';
import { mustRun, run } from './process.js';

describe('startUnbound', () => {
  let lab: DnsLab;
  let unbound: Unbound;
  const ask = async (name: string, type: string) =>
    (await mustRun('dig', [`@${unbound.address}`, '-p', String(unbound.port), '+short', '+time=3', '+tries=1', name, type])).trim();
  beforeAll(async () => {
    lab = await startDnsLab();
    unbound = await startUnbound({ rootHintsFile: lab.rootHintsFile, port: 5353 });
  }, 60_000);
  afterAll(async () => {
    await unbound?.stop();
    await lab?.stop();
  });

  it('resolves recursively from the lab root: glue, glueless, CNAME chains, TCP-only answers', async () => {
    expect(await ask('host.example.test', 'A')).toBe('192.0.2.10');
    expect(await ask('www.glueless.test', 'A')).toBe('192.0.2.30');
    expect((await ask('alias1.example.test', 'A')).split('\n')).toEqual(['alias2.example.test.', 'www.example.test.', 'host.example.test.', '192.0.2.10']);
    expect((await ask('big.test', 'TXT')).split('\n')).toHaveLength(40);
    const nx = await run('dig', [`@${unbound.address}`, '-p', String(unbound.port), '+time=3', '+tries=1', 'nope.example.test', 'A']);
    expect(nx.stdout).toMatch(/status: NXDOMAIN/);
  });

  it('sees records added by a TSIG update once its cache of the zone is flushed', async () => {
    expect(await ask('_fresh.example.test', 'TXT')).toBe('');
    await mustRun('nsupdate', ['-k', lab.tsigKeyFile], {
      input: `server ${lab.addresses.primary} 53\nzone example.test\nupdate add _fresh.example.test. 60 IN TXT "now"\nsend\n`,
    });
    await unbound.flushZone('example.test');
    // Either server of the zone may be asked: wait for the secondary's copy.
    const deadline = Date.now() + 10_000;
    while ((await lab.dig(lab.addresses.secondary, '_fresh.example.test', 'TXT')) === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await ask('_fresh.example.test', 'TXT')).toBe('"now"');
  });
});
