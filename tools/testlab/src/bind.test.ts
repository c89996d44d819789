import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsLab, type DnsLab } from './bind.js';
import { run } from './process.js';

describe('startDnsLab', () => {
  let lab: DnsLab;
  beforeAll(async () => {
    lab = await startDnsLab({ slowDelayMs: 200 });
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('delegates from the root to test. to example.test with glue', async () => {
    const { root, tld, primary, secondary } = lab.addresses;
    const fromRoot = await lab.dig(root, 'host.example.test', 'A', ['+noshort', '+nocmd', '+nostats']);
    expect(fromRoot).toContain(`ns1.test.`);
    expect(fromRoot).toContain(tld);
    const fromTld = await lab.dig(tld, 'host.example.test', 'A', ['+noshort', '+nocmd', '+nostats']);
    expect(fromTld).toContain(primary);
    expect(fromTld).toContain(secondary);
    expect(await lab.dig(primary, 'host.example.test', 'A')).toBe('192.0.2.10');
    expect(await lab.dig(secondary, 'host.example.test', 'A')).toBe('192.0.2.10');
  });

  it('has a glueless delegation, a lame server, a big TXT set and a slow server', async () => {
    const { tld, primary, secondary, slow } = lab.addresses;
    const glueless = await lab.dig(tld, 'www.glueless.test', 'A', ['+noshort', '+nocmd', '+nostats']);
    expect(glueless).toContain('ns.hosts.example.test.');
    expect(glueless).not.toMatch(/ADDITIONAL SECTION:\s*ns\.hosts/);
    const lame = await lab.dig(secondary, 'www.lame.test', 'A', ['+noshort']);
    expect(lame).toMatch(/status: REFUSED/);
    const udp = await lab.dig(primary, 'big.test', 'TXT', ['+noshort', '+ignore', '+bufsize=1232']);
    expect(udp).toMatch(/flags: qr aa tc/);
    expect((await lab.dig(primary, 'big.test', 'TXT', ['+tcp'])).split('\n')).toHaveLength(40);
    const started = Date.now();
    expect(await lab.dig(slow, 'www.slow.test', 'A')).toBe('192.0.2.60');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('accepts TSIG-signed updates for example.test and sends them to the secondary; refuses unsigned ones', async () => {
    const { primary, secondary } = lab.addresses;
    const before = await lab.serial(secondary, 'example.test');
    const update = (key: string[]) =>
      run('nsupdate', key, { input: `server ${primary} 53\nzone example.test\nupdate add _lab.example.test. 60 IN TXT "hello"\nsend\n` });
    const unsigned = await update([]);
    expect(unsigned.stdout + unsigned.stderr).toMatch(/REFUSED/);
    const signed = await update(['-k', lab.tsigKeyFile]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(await lab.dig(primary, '_lab.example.test', 'TXT')).toBe('"hello"');
    const deadline = Date.now() + 10_000;
    while ((await lab.serial(secondary, 'example.test')) === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await lab.dig(secondary, '_lab.example.test', 'TXT')).toBe('"hello"');
    const wrong = await update(['-k', lab.wrongTsigKeyFile]);
    expect(wrong.code).not.toBe(0);
  });

  it('reloads files.test from its zone file with rndc', async () => {
    const reload = lab.reloadCommand.map((a) => a.replace('{zone}', 'files.test'));
    const result = await run(reload[0]!, reload.slice(1));
    expect(result.code, result.stderr).toBe(0);
    expect(await lab.serial(lab.addresses.primary, 'files.test')).toBe(2024010100);
  });
});
