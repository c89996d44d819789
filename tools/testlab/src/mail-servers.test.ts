import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type LabCa, type LabCert } from './certs.js';
import { startDovecot, type Dovecot } from './dovecot.js';
import { startExim, type Exim } from './exim.js';
import { randomLoopback } from './loopback.js';
import { labDir, run } from './process.js';
import { copyFile } from 'node:fs/promises';

/** The subject CN a server presents, as `openssl s_client` sees it. */
async function servedCn(address: string, port: number, starttls?: string): Promise<string> {
  const args = ['s_client', '-connect', `${address}:${port}`, '-servername', 'mail.example.test', ...(starttls ? ['-starttls', starttls] : [])];
  const hello = await run('openssl', args, { input: '', timeoutMs: 10_000 });
  const subject = await run('openssl', ['x509', '-noout', '-subject'], { input: hello.stdout });
  return /CN\s*=\s*([^,\n]+)/.exec(subject.stdout)?.[1]?.trim() ?? `none (${hello.stderr.slice(0, 300)})`;
}

describe('Dovecot and Exim on loopback', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let ca: LabCa;
  let a: LabCert;
  let b: LabCert;
  let dovecot: Dovecot;
  let exim: Exim;
  beforeAll(async () => {
    dir = await labDir('mail');
    ca = await createCa(join(dir.path, 'ca'));
    a = await ca.issue('a', { cn: 'a.example.test' });
    b = await ca.issue('b', { cn: 'b.example.test' });
    await copyFile(a.certFile, join(dir.path, 'dovecot.crt'));
    await copyFile(a.keyFile, join(dir.path, 'dovecot.key'));
    const address = randomLoopback();
    [dovecot, exim] = await Promise.all([
      startDovecot({ address, certFile: join(dir.path, 'dovecot.crt'), keyFile: join(dir.path, 'dovecot.key') }),
      startExim({ address, certPem: a.certPem, keyPem: a.keyPem }),
    ]);
  });
  afterAll(async () => {
    await dovecot?.stop();
    await exim?.stop();
    await dir?.cleanup();
  });

  it('Dovecot serves its certificate on IMAP STARTTLS, IMAPS, POP3 STARTTLS and POP3S, and reloads', async () => {
    const { address, ports } = dovecot;
    expect(await servedCn(address, ports.imap, 'imap'), await dovecot.log()).toBe('a.example.test');
    expect(await servedCn(address, ports.imaps)).toBe('a.example.test');
    expect(await servedCn(address, ports.pop3, 'pop3')).toBe('a.example.test');
    expect(await servedCn(address, ports.pop3s)).toBe('a.example.test');
    await copyFile(b.certFile, join(dir.path, 'dovecot.crt'));
    await copyFile(b.keyFile, join(dir.path, 'dovecot.key'));
    expect(await servedCn(address, ports.imaps)).toBe('a.example.test');
    await dovecot.reload();
    expect(await servedCn(address, ports.imaps)).toBe('b.example.test');
  });

  it('Exim serves its certificate on SMTP STARTTLS and SMTPS, keeps it until HUP, then serves the new one', async () => {
    const { address, ports } = exim;
    expect(await servedCn(address, ports.smtp, 'smtp'), await exim.log()).toBe('a.example.test');
    expect(await servedCn(address, ports.submission, 'smtp')).toBe('a.example.test');
    expect(await servedCn(address, ports.smtps)).toBe('a.example.test');
    await exim.writeCertificate(b.certPem, b.keyPem);
    expect(await servedCn(address, ports.smtp, 'smtp')).toBe('a.example.test');
    await exim.reload();
    expect(await servedCn(address, ports.smtp, 'smtp'), await exim.log()).toBe('b.example.test');
  });
});
