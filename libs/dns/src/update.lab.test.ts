// RFC 2136 updates signed with TSIG against a real BIND primary; key files in BIND's format.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsLab, type DnsLab } from '@certsmith/testlab';
import { parseBindKey, readBindKeyFile, signMessage, verifyResponse, findTsig } from './tsig.js';
import { encodeUpdate, sendUpdate, type UpdateTarget } from './update.js';
import { CertsmithError } from '@certsmith/core';

describe('TSIG key files', () => {
  const text = 'key "lab-key" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0LXNlY3JldC1zZWNyZXQtMTIzNA==";\n};\n';

  it('parses tsig-keygen output and never shows the secret', () => {
    const key = parseBindKey(text);
    expect(key.name).toBe('lab-key');
    expect(String(key)).toBe('TSIG key "lab-key" (hmac-sha256)');
    expect(JSON.stringify(key)).not.toContain('c2VjcmV0');
    expect(JSON.stringify({ ...key })).not.toContain('c2VjcmV0');
  });

  it('refuses other algorithms, missing secrets and files others can read', async () => {
    expect(() => parseBindKey(text.replace('hmac-sha256', 'hmac-md5'), 'k.key')).toThrow(/k\.key: key "lab-key" uses algorithm hmac-md5/);
    expect(() => parseBindKey('nothing here', 'k.key')).toThrow(/no key "NAME"/);
    const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/certsmith-tsig-'));
    const file = join(dir, 'k.key');
    await writeFile(file, text, { mode: 0o644 });
    await chmod(file, 0o644);
    expect(() => readBindKeyFile(file)).toThrow(`${file}: the TSIG key file is readable by others (mode 644); run chmod 600 ${file}`);
    await chmod(file, 0o600);
    expect(readBindKeyFile(file).name).toBe('lab-key');
    expect(() => readBindKeyFile(join(dir, 'missing.key'))).toThrow(/cannot read the TSIG key file \(ENOENT\)/);
  });

  it('signs a message and verifies a response signed the same way', () => {
    const key = parseBindKey(text);
    const message = encodeUpdate('example.test', [{ op: 'add', name: 'a.example.test', type: 'TXT', ttl: 60, data: 'x' }]);
    const { signed, mac } = signMessage(message, key, 1_700_000_000);
    const tsig = findTsig(signed);
    expect(tsig?.keyName).toBe('lab-key');
    expect(tsig?.mac.equals(mac)).toBe(true);
    expect(signed.readUInt16BE(10)).toBe(1);
    expect(verifyResponse(signed, Buffer.alloc(0), key, 1_700_000_000)).toBe('the response signature does not verify');
  });
});

describe('sendUpdate against BIND', () => {
  let lab: DnsLab;
  let target: UpdateTarget;
  beforeAll(async () => {
    lab = await startDnsLab();
    target = { zone: 'example.test', server: lab.addresses.primary, port: 53, key: readBindKeyFile(lab.tsigKeyFile), timeoutMs: 3_000 };
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('adds and deletes TXT records, one value at a time', async () => {
    const name = '_acme-challenge.www.example.test';
    const signal = AbortSignal.timeout(10_000);
    await sendUpdate(
      target,
      [
        { op: 'add', name, type: 'TXT', ttl: 60, data: 'one' },
        { op: 'add', name, type: 'TXT', ttl: 60, data: 'two' },
      ],
      signal,
    );
    expect((await lab.dig(lab.addresses.primary, name, 'TXT')).split('\n').sort()).toEqual(['"one"', '"two"']);
    await sendUpdate(target, [{ op: 'delete', name, type: 'TXT', data: 'one' }], signal);
    expect(await lab.dig(lab.addresses.primary, name, 'TXT')).toBe('"two"');
    await sendUpdate(target, [{ op: 'delete-rrset', name, type: 'TXT' }], signal);
    expect(await lab.dig(lab.addresses.primary, name, 'TXT')).toBe('');
  });

  it('adds a long TXT value split into 255-byte strings, and a CNAME', async () => {
    const signal = AbortSignal.timeout(10_000);
    const long = 'v'.repeat(300);
    await sendUpdate(
      target,
      [
        { op: 'add', name: 'long.example.test', type: 'TXT', ttl: 60, data: long },
        { op: 'add', name: '_abc.example.test', type: 'CNAME', ttl: 60, data: 'x.y.sectigo.com' },
      ],
      signal,
    );
    expect((await lab.dig(lab.addresses.primary, 'long.example.test', 'TXT')).replace(/[" ]/g, '')).toBe(long);
    expect(await lab.dig(lab.addresses.primary, '_abc.example.test', 'CNAME')).toBe('x.y.sectigo.com.');
    await sendUpdate(
      target,
      [
        { op: 'delete-rrset', name: 'long.example.test', type: 'TXT' },
        { op: 'delete-rrset', name: '_abc.example.test', type: 'CNAME' },
      ],
      signal,
    );
  });

  it('names the zone and the server when the key is wrong, the zone is not allowed, or nobody listens', async () => {
    const signal = AbortSignal.timeout(10_000);
    const change = [{ op: 'add' as const, name: 'x.example.test', type: 'TXT' as const, ttl: 60, data: 'x' }];
    const wrong = await sendUpdate({ ...target, key: readBindKeyFile(lab.wrongTsigKeyFile) }, change, signal).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(CertsmithError);
    expect((wrong as CertsmithError).code).toBe('DNS_TSIG_REJECTED');
    expect((wrong as Error).message).toBe(
      `TSIG key "${lab.tsigKeyName}" (hmac-sha256) was rejected for zone example.test. on ${lab.addresses.primary}:53 (BADSIG): check the key name and secret against the server's allow-update`,
    );
    expect((wrong as Error).message).not.toContain((await readFile(lab.wrongTsigKeyFile, 'utf8')).match(/secret "([^"]+)"/)![1]!);
    const refused = await sendUpdate({ ...target, zone: 'files.test' }, [{ ...change[0]!, name: 'x.files.test' }], signal).catch((e: unknown) => e);
    expect((refused as CertsmithError).code).toBe('DNS_UPDATE_REFUSED');
    expect((refused as Error).message).toContain(`zone files.test. on ${lab.addresses.primary}:53 answered REFUSED`);
    const nobody = await sendUpdate({ ...target, server: lab.addresses.root, port: 54 }, change, signal).catch((e: unknown) => e);
    expect((nobody as CertsmithError).code).toBe('DNS_UPDATE_UNREACHABLE');
    expect((nobody as Error).message).toContain(`zone example.test. on ${lab.addresses.root}:54`);
    await expect(sendUpdate(target, [{ ...change[0]!, name: 'x.other.test' }], signal)).rejects.toThrow('x.other.test. is not inside zone example.test.');
  });
});
