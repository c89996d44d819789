import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sectigoChallenge, sectigoFile } from './file-dcv.js';

const dir = mkdtempSync(join(tmpdir(), 'certsmith-sectigo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(script: string): string {
  return execFileSync('/bin/sh', ['-c', script], { cwd: dir, encoding: 'utf8' }).trim();
}

describe('Sectigo file name and content', () => {
  it('match `openssl req -outform DER | md5sum / sha256sum` for an RSA and an EC CSR', () => {
    for (const [file, key] of [
      ['ec', '-newkey ec -pkeyopt ec_paramgen_curve:P-256'],
      ['rsa', '-newkey rsa:2048'],
    ] as const) {
      sh(
        `openssl req ${key} -nodes -subj "/CN=host.example.test" -addext "subjectAltName=DNS:host.example.test,DNS:www.example.test" -keyout ${file}.key -out ${file}.csr 2>/dev/null`,
      );
      const md5 = sh(`openssl req -in ${file}.csr -outform DER | md5sum | cut -d' ' -f1`);
      const sha256 = sh(`openssl req -in ${file}.csr -outform DER | sha256sum | cut -d' ' -f1`);
      sh(`openssl req -in ${file}.csr -outform DER -out ${file}.der`);
      const challenge = sectigoChallenge('host.example.test', new Uint8Array(readFileSync(join(dir, `${file}.der`))));
      const published = sectigoFile(challenge);
      expect(published.path).toBe(`/.well-known/pki-validation/${md5.toUpperCase()}.txt`);
      expect(published.content).toBe(`${sha256}\nsectigo.com`);
    }
  });

  it('puts a configurable CA domain on line 2 and the unique value on line 3', () => {
    const challenge = sectigoChallenge('host.example.test', new Uint8Array([1, 2, 3]), { caDomain: 'comodoca.com', unique: 'abc123' });
    const lines = sectigoFile(challenge).content.split('\n');
    expect(lines).toEqual([challenge.sha256, 'comodoca.com', 'abc123']);
    expect(challenge.md5).toBe(challenge.md5.toUpperCase());
  });

  it('refuses values that would break the file or its path', () => {
    const good = sectigoChallenge('h.example.test', new Uint8Array([1]));
    expect(() => sectigoFile({ ...good, md5: '../../etc/passwd' })).toThrowError(/not 32 hex digits/);
    expect(() => sectigoFile({ ...good, unique: 'x'.repeat(21) })).toThrowError(/1 to 20 letters or digits/);
    expect(() => sectigoFile({ ...good, caDomain: 'sectigo.com\nevil' })).toThrowError(/not a domain name/);
  });
});
