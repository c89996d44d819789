// The DNS DCV method against the lab's BIND: a primary with TSIG updates, a secondary fed by NOTIFY.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers, CertsmithError, createBus, type Bus, type Challenge, type LifecycleEvents, type Target } from '@certsmith/core';
import { IterativeResolver, readBindKeyFile } from '@certsmith/dns';
import { startDnsLab, type DnsLab } from '@certsmith/testlab';
import { DnsTxtDcv } from './dns-txt-dcv.js';
import { Rfc2136Publisher } from './rfc2136-publisher.js';
import { ZoneFilePublisher, bumpSerial } from './zone-file-publisher.js';
import type { ZonePublisher } from './publishers.js';

const target: Target = { id: 'hostname', names: ['www.example.test'], services: ['cpanel'], kind: 'hostname' };
const signal = () => AbortSignal.timeout(30_000);
const options = { ttl: 60, pollIntervalMs: 250, pollTimeoutMs: 10_000 };

describe('DnsTxtDcv against BIND', () => {
  let lab: DnsLab;
  let resolver: IterativeResolver;
  let bus: Bus;
  const events: { type: string; event: unknown }[] = [];
  const nsupdate = (keyFile = lab.tsigKeyFile) => new Rfc2136Publisher(resolver, { key: readBindKeyFile(keyFile), port: 53, timeoutMs: 3_000 });

  beforeAll(async () => {
    lab = await startDnsLab();
    resolver = new IterativeResolver({ rootHints: lab.rootHints, timeoutMs: 1_000 });
    bus = createBus();
    bus.on('*', (type, event) => events.push({ type: String(type), event }));
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  const both = async (name: string, type: string) => [await lab.dig(lab.addresses.primary, name, type), await lab.dig(lab.addresses.secondary, name, type)];

  it('publishes the pre-check TXT in the zone by RFC 2136, sees it on every server, passes the subdomain via the zone, and cleans up', async () => {
    const dcv = new DnsTxtDcv(resolver, nsupdate(), bus, options);
    const challenge: Challenge = { kind: 'probe', name: 'www.example.test', token: 't', content: 'probe-value-1' };
    expect(answers(dcv, challenge)).toBe(true);
    expect(answers(dcv, { kind: 'http-file', name: 'x', path: '/.well-known/acme-challenge/t', body: 'k', redirects: 'acme' })).toBe(false);
    const published = await dcv.publish(challenge, target, signal());
    expect(published.where).toMatch(
      /^_cpanel-dcv-test-record\.example\.test\. TXT \(RFC 2136 update of zone example\.test\. on its primary with TSIG key "certsmith-lab-key"/,
    );
    const verdict = await dcv.check(published, signal());
    expect(verdict).toEqual({ name: 'www.example.test', ok: true, via: 'example.test' });
    expect(await both('_cpanel-dcv-test-record.example.test', 'TXT')).toEqual(['"probe-value-1"', '"probe-value-1"']);
    const resolved = events.filter((e) => e.type === 'dns-resolved').map((e) => e.event as LifecycleEvents['dns-resolved']);
    expect(resolved.map((e) => e.name).sort()).toEqual(['ns1.example.test', 'ns2.example.test']);
    expect(resolved[0]!.path[0]).toBe(`a.root. (${lab.addresses.root}): referral to test. (ns1.test.)`);
    expect(resolved[0]!.path.join(' ')).toMatch(/ns[12]\.example\.test\. \(127[.0-9]+\): answer/);
    await dcv.cleanup(published);
    expect(await lab.dig(lab.addresses.primary, '_cpanel-dcv-test-record.example.test', 'TXT')).toBe('');
  });

  it('keeps two probes of one zone apart: cleaning one up leaves the other', async () => {
    const dcv = new DnsTxtDcv(resolver, nsupdate(), bus, options);
    const [apex, www] = await Promise.all([
      dcv.publish({ kind: 'probe', name: 'example.test', token: 't', content: 'apex-value' }, target, signal()),
      dcv.publish({ kind: 'probe', name: 'www.example.test', token: 't', content: 'www-value' }, target, signal()),
    ]);
    const verdicts = await Promise.all([dcv.check(apex, signal()), dcv.check(www, signal())]);
    expect(verdicts).toEqual([
      { name: 'example.test', ok: true, via: undefined },
      { name: 'www.example.test', ok: true, via: 'example.test' },
    ]);
    await dcv.cleanup(apex);
    expect(await lab.dig(lab.addresses.primary, '_cpanel-dcv-test-record.example.test', 'TXT')).toBe('"www-value"');
    await dcv.cleanup(www);
    expect(await lab.dig(lab.addresses.primary, '_cpanel-dcv-test-record.example.test', 'TXT')).toBe('');
  });

  it('publishes a dns-txt challenge at its owner name (ACME dns-01 at _acme-challenge)', async () => {
    const dcv = new DnsTxtDcv(resolver, nsupdate(), bus, options);
    const acme = await dcv.publish(
      { kind: 'dns-txt', name: '*.host.example.test', owner: '_acme-challenge.host.example.test', value: 'base64url-digest' },
      target,
      signal(),
    );
    expect((await dcv.check(acme, signal())).ok).toBe(true);
    expect(await both('_acme-challenge.host.example.test', 'TXT')).toEqual(['"base64url-digest"', '"base64url-digest"']);
    await dcv.cleanup(acme);
    expect(await lab.dig(lab.addresses.primary, '_acme-challenge.host.example.test', 'TXT')).toBe('');
  });

  it('edits the zone file, raises the serial, reloads with rndc, and puts it back', async () => {
    const zoneFiles = { 'files.test': lab.filesZoneFile };
    const dcv = new DnsTxtDcv(resolver, new ZoneFilePublisher({ zoneFiles, reloadCommand: lab.reloadCommand, reloadTimeoutMs: 10_000 }), bus, options);
    const serial = await lab.serial(lab.addresses.primary, 'files.test');
    const published = await dcv.publish({ kind: 'probe', name: 'www.files.test', token: 't', content: 'file-probe' }, target, signal());
    expect(await lab.serial(lab.addresses.primary, 'files.test')).toBeGreaterThan(serial!);
    expect(await dcv.check(published, signal())).toEqual({ name: 'www.files.test', ok: true, via: 'files.test' });
    expect(await both('_cpanel-dcv-test-record.files.test', 'TXT')).toEqual(['"file-probe"', '"file-probe"']);
    await dcv.cleanup(published);
    expect(await readFile(lab.filesZoneFile, 'utf8')).not.toContain('certsmith-dcv');
    expect(await lab.dig(lab.addresses.primary, '_cpanel-dcv-test-record.files.test', 'TXT')).toBe('');
  });

  it('restores the zone file when the reload fails, and says which command failed', async () => {
    const before = await readFile(lab.filesZoneFile, 'utf8');
    const publisher = new ZoneFilePublisher({
      zoneFiles: { 'files.test': lab.filesZoneFile },
      reloadCommand: ['/bin/sh', '-c', 'echo "rndc: connect failed" >&2; exit 1', '{zone}'],
      reloadTimeoutMs: 5_000,
    });
    const dcv = new DnsTxtDcv(resolver, publisher, bus, options);
    const error = await dcv.publish({ kind: 'probe', name: 'www.files.test', token: 't', content: 'x' }, target, signal()).catch((e: unknown) => e);
    expect((error as CertsmithError).code).toBe('DNS_ZONE_RELOAD_FAILED');
    expect((error as Error).message).toMatch(/failed for zone files\.test\. \(the zone file was restored\): exit 1: rndc: connect failed/);
    expect(await readFile(lab.filesZoneFile, 'utf8')).toBe(before);
  });

  it('names the zone and the server when the TSIG key is wrong', async () => {
    const dcv = new DnsTxtDcv(resolver, nsupdate(lab.wrongTsigKeyFile), bus, options);
    const error = await dcv.publish({ kind: 'probe', name: 'www.example.test', token: 't', content: 'x' }, target, signal()).catch((e: unknown) => e);
    expect((error as CertsmithError).code).toBe('DNS_TSIG_REJECTED');
    expect((error as Error).message).toContain(`zone example.test. on ${lab.addresses.primary}:53 (BADSIG)`);
  });

  it('fails the check by name when a server never serves the record, and reports a failed cleanup', async () => {
    // A publisher that updates only the primary's file-less twin: nothing ever appears on the servers.
    const silent: ZonePublisher = {
      describe: () => 'nowhere',
      add: async () => undefined,
      remove: async () => {
        throw new CertsmithError('DNS_UPDATE_REFUSED', 'refused');
      },
    };
    const dcv = new DnsTxtDcv(resolver, silent, bus, { ...options, pollTimeoutMs: 600 });
    const published = await dcv.publish({ kind: 'probe', name: 'www.example.test', token: 't', content: 'never' }, target, signal());
    const verdict = await dcv.check(published, signal());
    expect(verdict.ok).toBe(false);
    expect(verdict.code).toBe('DNS_DCV_NOT_SEEN');
    expect(verdict.reason).toContain('TXT _cpanel-dcv-test-record.example.test. not served by every nameserver of zone example.test. after 0.6 s');
    expect(verdict.reason).toContain(`ns1.example.test. (${lab.addresses.primary}): NXDOMAIN`);
    expect(verdict.reason).toContain(`ns2.example.test. (${lab.addresses.secondary}): NXDOMAIN`);
    await expect(dcv.cleanup(published)).rejects.toThrow('refused');
    const failed = events.filter((e) => e.type === 'failed').map((e) => e.event as LifecycleEvents['failed']);
    expect(failed.at(-1)).toMatchObject({ stage: 'dcv', target: 'hostname', code: 'DNS_UPDATE_REFUSED', next: 'remove the record by hand' });
  });

  it('publishes a standing dns-persist record once (RFC 2136 or zone file), proves it on every server, never removes it, and refuses a name another account holds', async () => {
    const account = 'https://ca.test/acct/1';
    const persist = (name: string, accountUri = account) =>
      ({ kind: 'dns-persist', name, owner: `_validation-persist.${name}`, issuerDomainName: 'ca.test', accountUri, wildcard: false }) as const;
    const dcv = new DnsTxtDcv(resolver, nsupdate(), bus, options);
    expect(answers(dcv, persist('keep.example.test'))).toBe(true);
    const first = await dcv.publish(persist('keep.example.test'), target, signal());
    expect(first.kept).toBeUndefined();
    expect(first.where).toMatch(/^_validation-persist\.keep\.example\.test\. TXT \(standing; RFC 2136 update/);
    expect(await dcv.check(first, signal())).toEqual({ name: 'keep.example.test', ok: true, via: undefined });
    await dcv.cleanup(first);
    const again = await dcv.publish(persist('keep.example.test'), target, signal());
    expect(again.kept).toBe(true);
    expect((await dcv.check(again, signal())).ok).toBe(true);
    expect(await both('_validation-persist.keep.example.test', 'TXT')).toEqual([`"ca.test; accounturi=${account}"`, `"ca.test; accounturi=${account}"`]);

    await lab.updateExampleZone(['update add _validation-persist.taken.example.test. 60 TXT "ca.test; accounturi=https://ca.test/acct/99"']);
    await expect(dcv.publish(persist('taken.example.test'), target, signal())).rejects.toMatchObject({ code: 'DNS_PERSIST_OTHER_ACCOUNT' });
    expect(await lab.dig(lab.addresses.primary, '_validation-persist.taken.example.test', 'TXT')).toBe('"ca.test; accounturi=https://ca.test/acct/99"');

    // The pre-check reads only: bound, missing (a warning: the order publishes it), another account's (fails).
    const standing = { standing: { issuerDomainNames: ['ca.test'], accountUri: account } };
    expect(await dcv.precheck('keep.example.test', target, signal(), standing)).toMatchObject({
      ok: true,
      reason: `the standing record _validation-persist.keep.example.test. binds ${account} for ca.test`,
    });
    expect(await dcv.precheck('none.example.test', target, signal(), standing)).toMatchObject({
      ok: true,
      warnings: [{ code: 'DNS_PERSIST_MISSING', message: expect.stringContaining('no standing record _validation-persist.none.example.test. for ca.test') }],
    });
    expect(await dcv.precheck('taken.example.test', target, signal(), standing)).toMatchObject({
      ok: false,
      code: 'DNS_PERSIST_OTHER_ACCOUNT',
      reason: expect.stringContaining('binds ca.test to another account (https://ca.test/acct/99), not https://ca.test/acct/1'),
    });

    const zoneFiles = { 'files.test': lab.filesZoneFile };
    const files = new DnsTxtDcv(resolver, new ZoneFilePublisher({ zoneFiles, reloadCommand: lab.reloadCommand, reloadTimeoutMs: 10_000 }), bus, options);
    const inFile = await files.publish(persist('www.files.test'), target, signal());
    expect((await files.check(inFile, signal())).ok).toBe(true);
    await files.cleanup(inFile);
    expect(await readFile(lab.filesZoneFile, 'utf8')).toContain(`_validation-persist.www.files.test. 60 IN TXT "ca.test; accounturi=${account}"`);
  });

  it('publishes only in the configured zones', async () => {
    const dcv = new DnsTxtDcv(resolver, nsupdate(), bus, { ...options, zones: ['files.test'] });
    await expect(dcv.publish({ kind: 'probe', name: 'www.example.test', token: 't', content: 'x' }, target, signal())).rejects.toThrow(
      'www.example.test is in none of the zones dcv-dns may publish in (files.test)',
    );
  });
});

describe('bumpSerial', () => {
  const now = new Date('2026-11-25T01:00:00Z');
  it('moves a date serial to today, or up by one when it is already today or later', () => {
    expect(bumpSerial('@ IN SOA ns. h. 2024010100 1 1 1 1', 'f', now)).toBe('@ IN SOA ns. h. 2026112500 1 1 1 1');
    expect(bumpSerial('@ IN SOA ns. h. 2026112507 1 1 1 1', 'f', now)).toBe('@ IN SOA ns. h. 2026112508 1 1 1 1');
  });
  it('raises a plain counter, reads across parentheses and comments, and wraps at 2^32', () => {
    expect(bumpSerial('@ IN SOA ns. h. (\n  ; the serial\n  41 ; serial\n 1 1 1 1 )', 'f', now)).toBe(
      '@ IN SOA ns. h. (\n  ; the serial\n  42 ; serial\n 1 1 1 1 )',
    );
    expect(bumpSerial('@ SOA ns. h. 4294967295 1 1 1 1', 'f', now)).toBe('@ SOA ns. h. 0 1 1 1 1');
    expect(() => bumpSerial('@ IN NS ns.', 'zone.db', now)).toThrow('zone.db: no SOA record with a serial found');
  });
});

describe('ZoneFilePublisher on its own', () => {
  it('removes the leftover of an interrupted run with the same record, and leaves other values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'certsmith-zonefile-'));
    const file = join(dir, 'z.zone');
    await writeFile(file, '@ IN SOA ns. h. 7 1 1 1 1\n', { mode: 0o640 });
    const publisher = new ZoneFilePublisher({ zoneFiles: { 'z.test': file }, reloadCommand: ['true', '{zone}'], reloadTimeoutMs: 5_000 });
    const record = { owner: '_x.z.test', type: 'TXT' as const, value: 'same "quoted"', ttl: 60 };
    await publisher.add('z.test', { ...record, marker: 'killed-run' });
    await publisher.add('z.test', { ...record, value: 'other', marker: 'other' });
    await publisher.add('z.test', { ...record, marker: 'this-run' });
    await publisher.remove('z.test', { ...record, marker: 'this-run' });
    expect(await readFile(file, 'utf8')).toBe('@ IN SOA ns. h. 11 1 1 1 1\n_x.z.test. 60 IN TXT "other" ; certsmith-dcv other\n');
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    await rm(dir, { recursive: true });
  });

  it('says which zone has no file', async () => {
    const publisher = new ZoneFilePublisher({ zoneFiles: {}, reloadCommand: ['true'], reloadTimeoutMs: 1_000 });
    await expect(publisher.add('example.test', { owner: 'x.example.test', type: 'TXT', value: 'v', ttl: 60, marker: 'm' })).rejects.toThrow(
      'no zone file configured for zone example.test.',
    );
  });
});
