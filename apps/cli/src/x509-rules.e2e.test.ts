// The X.509 rules end to end: the built CLI inspects certificates from a lab CA in the cPanel layout,
// trusted through SSL_CERT_FILE as a real server trusts its CA bundle.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, fileTimes, labDir, runCli, type LabCa, type LabCert } from '@certsmith/testlab';

const HOST = 'host.example.test';

describe('certsmith check: X.509 rules on the service files', () => {
  let dir: Awaited<ReturnType<typeof labDir>>;
  let root: LabCa;
  let inter: LabCa;
  const certs: Record<string, LabCert> = {};
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await labDir('x509-rules-e2e');
    root = await createCa(join(dir.path, 'root'), { cn: 'Rules E2E Root CA' });
    inter = await root.intermediate('inter', { cn: 'Rules E2E Intermediate CA' });
    certs.empty = await inter.issue('empty', { cn: HOST, emptySubject: true });
    certs.good = await inter.issue('good', { cn: HOST });
    certs.anyEku = await inter.issue('any-eku', { cn: HOST, eku: ['anyExtendedKeyUsage'] });
    await writeFile(join(dir.path, 'trust.pem'), root.certPem);
    env = { SSL_CERT_FILE: join(dir.path, 'trust.pem') };
  });
  afterAll(() => dir?.cleanup());

  /** A sandbox whose four services hold the given certificate file text (chain after it) and key. */
  async function sandbox(
    name: string,
    files: { cpanel: LabCert; dovecot: string; dovecotKey: LabCert; exim: string; eximKey: LabCert; ftp: LabCert },
  ): Promise<{ config: string; ssl: string }> {
    const base = join(dir.path, name);
    const ssl = join(base, 'ssl');
    for (const sub of ['cpanel', 'dovecot', 'exim', 'ftp']) await mkdir(join(ssl, sub), { recursive: true });
    await writeFile(join(ssl, 'cpanel/mycpanel.pem'), files.cpanel.keyPem + files.cpanel.certPem + inter.certPem);
    await writeFile(join(ssl, 'cpanel/mycpanel.cabundle'), inter.certPem);
    await writeFile(join(ssl, 'dovecot/mydovecot.crt'), files.dovecot);
    await writeFile(join(ssl, 'dovecot/mydovecot.key'), files.dovecotKey.keyPem, { mode: 0o600 });
    await writeFile(join(ssl, 'exim/myexim.crt'), files.exim);
    await writeFile(join(ssl, 'exim/myexim.key'), files.eximKey.keyPem, { mode: 0o600 });
    await writeFile(join(ssl, 'ftp/pure-ftpd.pem'), files.ftp.keyPem + files.ftp.certPem + inter.certPem, { mode: 0o600 });
    const config = join(base, 'config.json');
    await writeFile(
      config,
      JSON.stringify(
        {
          profile: 'full',
          hostname: HOST,
          paths: { stateDir: './state', sslDir: './ssl' },
          inspection: { live: false },
        },
        null,
        2,
      ),
    );
    return { config, ssl };
  }

  /** The lines of one service's block in the log. */
  function block(stdout: string, service: string): string {
    const start = stdout.indexOf(`  Service ${service}:`);
    expect(start, stdout).toBeGreaterThanOrEqual(0);
    const rest = stdout.slice(start + 1);
    const end = rest.search(/\n {2}\S/);
    return end < 0 ? rest : rest.slice(0, end);
  }

  it('takes a certificate with an empty subject (names only in the SAN) as OK, and a second run orders nothing', async () => {
    const empty = certs.empty!;
    const { config, ssl } = await sandbox('empty-subject', {
      cpanel: empty,
      dovecot: empty.certPem + inter.certPem,
      dovecotKey: empty,
      exim: empty.certPem + inter.certPem,
      eximKey: empty,
      ftp: empty,
    });
    const before = await fileTimes(ssl);
    const first = await runCli(['check', '--verbose', '--config', config], { env });
    expect(first.stderr).toBe('');
    expect(first.code, first.stdout).toBe(0);
    for (const service of ['cpanel', 'dovecot', 'exim', 'ftp']) expect(block(first.stdout, service), service).toContain('TLS Status: OK');
    expect(first.stdout).toContain('Subject: (empty subject)');
    expect(first.stdout).not.toContain('Defect:');
    expect(first.stdout).not.toMatch(/Issued by|Installed/);
    const second = await runCli(['check', '--config', config], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/Issued by|Installed|Defect:/);
    expect(await fileTimes(ssl)).toEqual(before);
  });

  it('reports a certificate file in reverse order (CA first) and an anyExtendedKeyUsage-only certificate as defects', async () => {
    const good = certs.good!;
    const { config, ssl } = await sandbox('wrong', {
      cpanel: good,
      dovecot: inter.certPem + good.certPem,
      dovecotKey: good,
      exim: certs.anyEku!.certPem + inter.certPem,
      eximKey: certs.anyEku!,
      ftp: good,
    });
    const result = await runCli(['check', '--dry-run', '--config', config], { env });
    expect(result.stderr).toBe('');
    const dovecot = block(result.stdout, 'dovecot');
    expect(dovecot).toContain('TLS Status: Defective');
    expect(dovecot).toContain(`Defect: WRONG_CERTIFICATE_ORDER: ${join(ssl, 'dovecot/mydovecot.crt')}: the first certificate`);
    expect(dovecot).toContain('must come first');
    const exim = block(result.stdout, 'exim');
    expect(exim).toContain('TLS Status: Defective');
    expect(exim).toContain('Defect: NO_SERVER_AUTH_EKU: the extended key usage (anyExtendedKeyUsage) does not allow serverAuth');
    expect(block(result.stdout, 'cpanel')).toContain('TLS Status: OK');
    expect(block(result.stdout, 'ftp')).toContain('TLS Status: OK');
  });
});
