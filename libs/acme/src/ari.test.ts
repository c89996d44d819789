import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AcmeError } from './problem.js';
import { ariCertIdOf } from './ari.js';

function selfSigned(extra: string[]): string {
  return execFileSync(
    'sh',
    ['-c', `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=ari.test -days 5 ${extra.join(' ')} 2>/dev/null`],
    { encoding: 'utf8' },
  );
}

describe('ariCertIdOf', () => {
  it('is the AKI keyIdentifier and the serial, as OpenSSL reads them', () => {
    const pem = selfSigned(['-set_serial', '0x00ff0102', '-addext', 'authorityKeyIdentifier=keyid:always']);
    const [aki, serial] = ariCertIdOf(pem).split('.');
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier'], { input: pem, encoding: 'utf8' });
    const keyId = /([0-9A-F]{2}(?::[0-9A-F]{2}){19})/.exec(text)![1]!.replaceAll(':', '').toLowerCase();
    expect(Buffer.from(aki!, 'base64url').toString('hex')).toBe(keyId);
    // 0xff0102 has its top bit set: the DER INTEGER keeps its leading zero, and so does the identifier.
    expect(Buffer.from(serial!, 'base64url').toString('hex')).toBe('00ff0102');
    expect(new X509Certificate(pem).serialNumber).toBe('FF0102');
  });

  it('says ARI_NO_AKI for a certificate without the extension and for text that holds no certificate', () => {
    const pem = selfSigned(['-addext', 'authorityKeyIdentifier=none', '-addext', 'subjectKeyIdentifier=none']);
    expect(() => ariCertIdOf(pem)).toThrow(AcmeError);
    expect(() => ariCertIdOf(pem)).toThrow(/no Authority Key Identifier/);
    expect(() => ariCertIdOf('not a certificate')).toThrow(/no PEM certificate/);
  });
});
