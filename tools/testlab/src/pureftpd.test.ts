import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type LabCa, type LabCert } from './certs.js';
import { randomLoopback } from './loopback.js';
import { labDir, run } from './process.js';
import { startPureFtpd, type PureFtpd } from './pureftpd.js';

async function servedCn(address: string, port: number): Promise<string> {
  const hello = await run('openssl', ['s_client', '-connect', `${address}:${port}`, '-starttls', 'ftp'], { input: '', timeoutMs: 10_000 });
  const subject = await run('openssl', ['x509', '-noout', '-subject'], { input: hello.stdout });
  return /CN\s*=\s*([^,\n]+)/.exec(subject.stdout)?.[1]?.trim() ?? `none (${hello.stderr.slice(0, 300)})`;
}

describe('Pure-FTPd on loopback', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let ca: LabCa;
  let a: LabCert;
  let b: LabCert;
  let ftp: PureFtpd;
  const pem = () => join(dir.path, 'pure-ftpd.pem');
  beforeAll(async () => {
    dir = await labDir('ftp');
    ca = await createCa(join(dir.path, 'ca'));
    a = await ca.issue('a', { cn: 'a.example.test' });
    b = await ca.issue('b', { cn: 'b.example.test' });
    await writeFile(pem(), a.keyPem + a.certPem, { mode: 0o600 });
    ftp = await startPureFtpd({ address: randomLoopback(), certFile: pem() });
  });
  afterAll(async () => {
    await ftp?.stop();
    await dir?.cleanup();
  });

  it('serves its certificate after AUTH TLS, keeps it when the file changes, serves the new one after a restart', async () => {
    expect(await servedCn(ftp.address, ftp.port)).toBe('a.example.test');
    await writeFile(pem(), b.keyPem + b.certPem, { mode: 0o600 });
    expect(await servedCn(ftp.address, ftp.port)).toBe('a.example.test');
    const before = await readFile(ftp.pidFile, 'utf8');
    const restarted = await run(ftp.restartCommand[0]!, ftp.restartCommand.slice(1));
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(await readFile(ftp.pidFile, 'utf8')).not.toBe(before);
    expect(await servedCn(ftp.address, ftp.port)).toBe('b.example.test');
  });

  it('a restart with an unusable certificate fails loudly (the daemon cannot come back)', async () => {
    await copyFile(join(ca.dir, 'index.txt'), pem()); // not a PEM at all
    const restarted = await run(ftp.restartCommand[0]!, ftp.restartCommand.slice(1));
    expect(restarted.code).toBe(1);
    expect(restarted.stderr).toContain(`pure-ftpd did not listen on ${ftp.address}:${ftp.port} after a restart`);
    await writeFile(pem(), a.keyPem + a.certPem, { mode: 0o600 });
    await ftp.restart();
    expect(await servedCn(ftp.address, ftp.port)).toBe('a.example.test');
  });
});
