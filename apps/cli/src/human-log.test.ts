import { describe, expect, it } from 'vitest';
import { createBus, type CertificateSummary } from '@certsmith/core';
import { HumanLog, defectLine } from './human-log.js';

function logOf(stream: boolean, verbose = false) {
  const lines: string[] = [];
  const bus = createBus();
  const log = new HumanLog(bus, (l) => lines.push(l), {
    verbose,
    now: new Date(),
    names: new Map([
      ['a', ['a.test', 'www.a.test']],
      ['b', ['b.test']],
    ]),
    stream,
  });
  log.attach();
  return { bus, lines, log };
}

describe('HumanLog', () => {
  it('prints one cPanel line per DCV verdict, with a followed redirect under the OK line', () => {
    const { bus, lines } = logOf(true);
    // The label comes from what the name was proved over, never from the method's id.
    bus.emit('validated', { target: 'a', name: 'a.test', ok: true, method: 'dns-files', over: 'http' });
    bus.emit('validated', { target: 'a', name: 'www.a.test', ok: true, method: 'http-zone', over: 'dns', via: 'a.test' });
    bus.emit('validated', {
      target: 'a',
      name: 'moved.a.test',
      ok: true,
      method: 'http-file',
      reason: 'followed Redirection #1 (moved.a.test): http://x → http://y',
    });
    bus.emit('validated', { target: 'a', name: 'gone.a.test', ok: false, method: 'http-file', reason: 'does not resolve (NXDOMAIN)' });
    bus.emit('validated', { target: 'a', name: 'skip.a.test', ok: false, method: 'config', reason: 'excluded by the configuration (dcv.exclude)' });
    expect(lines).toEqual([
      '',
      'Analyzing "a.test" (and www.a.test) ...',
      '  Local HTTP DCV OK: a.test',
      '  Local DNS DCV OK: www.a.test (via a.test)',
      '  Local HTTP DCV OK: moved.a.test',
      '    Redirection #1 (moved.a.test): http://x → http://y',
      '  Local HTTP DCV error (gone.a.test): does not resolve (NXDOMAIN)',
      '  Excluded: skip.a.test (excluded by the configuration (dcv.exclude))',
    ]);
  });

  it('always shows a name CAA forbids; what CAA allows or leaves unchecked only with --verbose', () => {
    for (const verbose of [false, true]) {
      const { bus, lines } = logOf(true, verbose);
      bus.emit('validated', { target: 'a', name: 'a.test', ok: true, method: 'caa', reason: '"acme" may issue: no CAA record from a.test up to its TLD' });
      bus.emit('validated', {
        target: 'a',
        name: 'www.a.test',
        ok: false,
        method: 'caa',
        reason: 'CAA_FORBIDS: www.a.test (0 issue "other.example" at a.test): no issue property names ca.example',
      });
      expect(lines).toEqual([
        '',
        'Analyzing "a.test" (and www.a.test) ...',
        ...(verbose ? ['  CAA OK: a.test ("acme" may issue: no CAA record from a.test up to its TLD)'] : []),
        '  CAA: CAA_FORBIDS: www.a.test (0 issue "other.example" at a.test): no issue property names ca.example',
      ]);
    }
  });

  it("keeps each target's lines together when targets run at once", () => {
    const { bus, lines, log } = logOf(false);
    const failed = (target: string, code: string) => bus.emit('failed', { stage: 'issue', target, code, message: 'm', next: 'n', severity: 'warning' });
    failed('a', 'A1');
    failed('b', 'B1');
    failed('a', 'A2');
    expect(lines).toEqual([]);
    log.flush('b');
    log.flushAll();
    expect(lines).toEqual([
      '',
      'Analyzing "b.test" ...',
      '  Warning (issue): B1: m → n',
      '',
      'Analyzing "a.test" (and www.a.test) ...',
      '  Warning (issue): A1: m → n',
      '  Warning (issue): A2: m → n',
    ]);
  });

  it("names the CA's profile in the issued line when the issuer says which one issued", () => {
    const { bus, lines } = logOf(true);
    const summary: CertificateSummary = {
      subject: '',
      commonName: null,
      issuer: 'CN=Lab Intermediate',
      serial: '01',
      notBefore: '2026-12-01T00:00:00Z',
      notAfter: '2026-12-07T16:00:00Z',
      names: ['a.test', 'www.a.test'],
      hasSan: true,
      key: 'EC P-256',
      signatureAlgorithm: 'ecdsa-with-SHA256',
      fingerprint: 'ab',
      selfSigned: false,
      extendedKeyUsage: ['serverAuth'],
    };
    bus.emit('issued', { target: 'a', issuer: 'acme', status: 'issued', summary, chain: [], selfSigned: false, profile: 'shortlived' });
    bus.emit('issued', { target: 'a', issuer: 'acme', status: 'issued', summary, chain: [], selfSigned: false });
    expect(lines.slice(2)).toEqual([
      '  Issued by "acme" (profile shortlived): certificate for a.test, www.a.test, expires 2026-12-07T16:00:00Z',
      '  Issued by "acme": certificate for a.test, www.a.test, expires 2026-12-07T16:00:00Z',
    ]);
  });
});

describe('defectLine', () => {
  it('names a file once: CODE: where: what', () => {
    expect(defectLine({ code: 'INVALID_KEY:/ssl/exim/exim.key', message: '/ssl/exim/exim.key: no private key can be read (neither PEM nor DER)' })).toBe(
      'INVALID_KEY: /ssl/exim/exim.key: no private key can be read (neither PEM nor DER)',
    );
    expect(defectLine({ code: 'NO_SSL', message: 'No SSL certificate is installed.' })).toBe('NO_SSL: No SSL certificate is installed.');
    expect(defectLine({ code: 'MISSING_KEY:/a.key', message: 'the key of /b.crt is missing' })).toBe('MISSING_KEY:/a.key: the key of /b.crt is missing');
  });
});
