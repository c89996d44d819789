import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConfig, type NewMaterial, type Target } from '@certsmith/core';
import { installerFromConfig } from '@certsmith/install';
import { CertificateInspector } from '@certsmith/x509';
import { sharedVhostFiles, vhostPairs, webProfile } from './index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'certsmith-web-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function selfSigned(name: string): { cert: string; key: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '5',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
      '-keyout',
      join(root, `${name}.key`),
      '-out',
      join(root, `${name}.crt`),
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: execFileSync('cat', [join(root, `${name}.crt`)], { encoding: 'utf8' }),
    key: execFileSync('cat', [join(root, `${name}.key`)], { encoding: 'utf8' }),
  };
}

describe('vhostPairs', () => {
  it('reads the certificate and key of each nginx server block and Apache VirtualHost, skipping comments', async () => {
    await writeFile(
      join(root, 'nginx.conf'),
      `http {
  server { listen 443 ssl; server_name a; ssl_certificate /a.crt; ssl_certificate_key "/a.key"; }
  server { listen 80; server_name plain; }
  server {
    # ssl_certificate /commented.crt;
    ssl_certificate_key /b.key;
    ssl_certificate /b.crt;
  }
}`,
    );
    await mkdir(join(root, 'apache'));
    await writeFile(join(root, 'apache', 'ssl.conf'), `<VirtualHost *:443>\n  SSLCertificateFile /c.crt\n  SSLCertificateKeyFile /c.key\n</VirtualHost>\n`);
    expect(await vhostPairs('nginx', [join(root, 'nginx.conf')])).toEqual([
      { configFile: join(root, 'nginx.conf'), certFile: '/a.crt', keyFile: '/a.key' },
      { configFile: join(root, 'nginx.conf'), certFile: '/b.crt', keyFile: '/b.key' },
    ]);
    expect(await vhostPairs('apache', [join(root, 'apache')])).toEqual([
      { configFile: join(root, 'apache', 'ssl.conf'), certFile: '/c.crt', keyFile: '/c.key' },
    ]);
  });
});

describe('the web installer', () => {
  it('gives the new hostname certificate to every vhost that served the old one, and to no other', async () => {
    const old = selfSigned('host.example.test');
    const other = selfSigned('other.example.test');
    const vhosts = join(root, 'vhosts');
    await mkdir(vhosts);
    for (const [name, pair] of [
      ['host', old],
      ['shared', old],
      ['other', other],
    ] as const) {
      await writeFile(join(vhosts, `${name}.crt`), pair.cert);
      await writeFile(join(vhosts, `${name}.key`), pair.key, { mode: 0o600 });
    }
    const conf = join(root, 'sites.conf');
    await writeFile(
      conf,
      ['host', 'shared', 'other'].map((n) => `server { ssl_certificate ${vhosts}/${n}.crt; ssl_certificate_key ${vhosts}/${n}.key; }\n`).join(''),
    );
    const config = completeConfig(
      { hostname: 'host.example.test', paths: { stateDir: join(root, 'state'), sslDir: join(root, 'ssl') }, services: { web: {} } },
      join(root, 'config.json'),
    );
    const settings = { certFile: join(vhosts, 'host.crt'), keyFile: join(vhosts, 'host.key'), configFiles: [conf] };
    const installer = installerFromConfig(config, 'web', webProfile(config, settings), { followers: sharedVhostFiles(config, settings) });
    const target: Target = { id: 'hostname', names: ['host.example.test'], services: ['web'], kind: 'hostname' };
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        join(root, 'host.example.test.key'),
        '-subj',
        '/CN=host.example.test',
        '-days',
        '30',
        '-addext',
        'subjectAltName=DNS:host.example.test',
        '-out',
        join(root, 'new.crt'),
      ],
      { stdio: 'ignore' },
    );
    const certificatePem = await readFile(join(root, 'new.crt'), 'utf8');
    const material: NewMaterial = {
      certificatePem,
      chainPem: [],
      keyPem: old.key,
      summary: new CertificateInspector().summarize(certificatePem),
      issuerId: 'test',
      selfSigned: true,
    };
    const receipt = await installer.install(target, material, { dryRun: false, signal: AbortSignal.timeout(5_000) });
    expect(receipt.files).toEqual([join(vhosts, 'host.crt'), join(vhosts, 'host.key'), join(vhosts, 'shared.crt'), join(vhosts, 'shared.key')]);
    expect((await installer.prove(receipt, AbortSignal.timeout(5_000))).ok).toBe(true);
    expect(await readFile(join(vhosts, 'shared.crt'), 'utf8')).toBe(certificatePem);
    expect(await readFile(join(vhosts, 'other.crt'), 'utf8')).toBe(other.cert);
  });
});
