import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  CertsmithError, type CertificateSummary, type Defect, type InspectContext, type Inspection, type Inspector,
  type NewMaterial, type ServiceMaterial, type SourceFile,
} from '@certsmith/core';
import { parseCertificate, type ParsedCertificate } from './certificate.js';
import { isValidHostname, nameCovers } from './names.js';
import { parsePem } from './pem.js';
import type { LiveProbe } from './live-probe.js';

const DAY = 86_400_000;
/** Larger files are not certificates anyone meant to install; refuse before parsing. */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_CERTIFICATES = 100;


interface Collected {
  files: string[];
  certificates: { parsed: ParsedCertificate; path: string }[];
  keys: { key: KeyObject; path: string }[];
  defects: Defect[];
  anyCertificateSource: boolean;
}

/**
 * Every offline replacement rule of checkallsslcerts over what an installer read. Never throws for bad input:
 * each problem becomes a defect naming the file.
 */
export class CertificateInspector implements Inspector {
  constructor(private readonly live?: LiveProbe) {}

  async inspect(material: ServiceMaterial, ctx: InspectContext): Promise<Inspection> {
    const collected = collect(material.sources);
    const defects = [...collected.defects];
    const leaf = collected.certificates[0];
    const files = collected.files;
    if (!leaf) {
      if (!collected.defects.some((d) => d.code.startsWith('EMPTY_CERTIFICATE') || d.code.startsWith('INVALID_CERTIFICATE'))) {
        defects.unshift({ code: 'NO_SSL', message: 'No SSL certificate is installed.', severity: 'replace' });
      }
      return { files, live: [], summary: null, chain: [], defects, providerIssued: false };
    }
    const chain = collected.certificates.slice(1);
    const providerIssued = ctx.policy.providerIssuerPatterns.some((re) => re.test(leaf.parsed.summary.issuer));
    defects.push(...certificateDefects(leaf.parsed, leaf.path, ctx, providerIssued));
    defects.push(...keyDefects(leaf.parsed, collected.keys, material.sources));
    defects.push(...nameDefects(leaf.parsed, ctx.target.names));
    const endpoints = material.endpoints.map((e) => ({ ...e, servername: e.servername ?? ctx.target.names[0] }));
    const live = this.live && ctx.policy.live && endpoints.length > 0
      ? (await this.live.observe(endpoints, ctx.signal)).map(({ endpoint, ok, fingerprint, error }) => ({ endpoint, ok, fingerprint, error }))
      : [];
    for (const observation of live) {
      if (observation.ok && observation.fingerprint && observation.fingerprint !== leaf.parsed.summary.fingerprint) {
        defects.push({ code: 'STALE_LIVE', message: `${observation.endpoint} serves a different certificate than the files hold (reload the service)`, severity: 'warning' });
      } else if (!observation.ok) {
        defects.push({ code: 'LIVE_UNREACHABLE', message: `${observation.endpoint}: ${observation.error ?? 'no TLS handshake'}`, severity: 'warning' });
      }
    }
    return { files, live, summary: leaf.parsed.summary, chain: chain.map((c) => c.parsed.summary), defects, providerIssued };
  }

  summarize(certificatePem: string): CertificateSummary {
    const block = parsePem(certificatePem).find((b) => b.label === 'CERTIFICATE');
    if (!block) throw new CertsmithError('INVALID_CERTIFICATE', 'no PEM certificate in the text');
    try {
      return parseCertificate(block.der).summary;
    } catch (error) {
      throw new CertsmithError('INVALID_CERTIFICATE', `not a certificate: ${(error as Error).message}`);
    }
  }

  verifyIssued(material: NewMaterial, names: string[], now: Date): Defect[] {
    const block = parsePem(material.certificatePem).find((b) => b.label === 'CERTIFICATE');
    if (!block) return [{ code: 'INVALID_CERTIFICATE', message: 'the issuer returned no certificate', severity: 'replace' }];
    let parsed: ParsedCertificate;
    try {
      parsed = parseCertificate(block.der);
    } catch (error) {
      return [{ code: 'INVALID_CERTIFICATE', message: `the issuer returned an unreadable certificate: ${(error as Error).message}`, severity: 'replace' }];
    }
    const defects: Defect[] = [];
    try {
      if (!parsed.x509.checkPrivateKey(createPrivateKey(material.keyPem))) {
        defects.push({ code: 'KEY_MISMATCH', message: 'the certificate does not belong to the key it was ordered with', severity: 'replace' });
      }
    } catch {
      defects.push({ code: 'KEY_MISMATCH', message: 'the key could not be checked against the certificate', severity: 'replace' });
    }
    const missing = names.filter((n) => !parsed.dnsNames.some((c) => nameCovers(c, n)));
    if (missing.length) defects.push({ code: 'NAME_MISMATCH', message: `the certificate does not cover ${missing.join(', ')}`, severity: 'replace' });
    if (parsed.notAfter.getTime() <= now.getTime()) defects.push({ code: 'EXPIRED', message: 'the issued certificate is already expired', severity: 'replace' });
    return defects;
  }
}

function collect(sources: SourceFile[]): Collected {
  const out: Collected = { files: [], certificates: [], keys: [], defects: [], anyCertificateSource: false };
  const seen = new Set<string>();
  const leafFirst = [...sources].sort((a, b) => rank(a.role) - rank(b.role));
  for (const source of leafFirst) {
    const holdsCertificate = source.role !== 'key';
    if ('error' in source) {
      if (source.error === 'unreadable') {
        out.defects.push({
          code: holdsCertificate ? `INVALID_CERTIFICATE:${source.path}` : `INVALID_KEY:${source.path}`,
          message: `${source.path}: cannot be read (${source.detail})`, severity: 'replace', path: source.path,
        });
      } else if (source.role === 'key' && out.certificates.length > 0) {
        out.defects.push({ code: `MISSING_KEY:${source.path}`, message: `${source.path}: the private key file is missing`, severity: 'replace', path: source.path });
      }
      continue;
    }
    out.files.push(source.path);
    const bytes = Buffer.from(source.bytes);
    if (bytes.length > MAX_FILE_BYTES) {
      out.defects.push({ code: `INVALID_CERTIFICATE:${source.path}`, message: `${source.path}: ${bytes.length} bytes is too large for a certificate file`, severity: 'replace', path: source.path });
      continue;
    }
    if (bytes.toString('latin1').trim().length === 0) {
      if (holdsCertificate) out.defects.push({ code: `EMPTY_CERTIFICATE:${source.path}`, message: `${source.path}: the file is empty`, severity: 'replace', path: source.path });
      else out.defects.push({ code: `MISSING_KEY:${source.path}`, message: `${source.path}: the key file is empty`, severity: 'replace', path: source.path });
      continue;
    }
    readBlocks(bytes, source, out, seen);
  }
  return out;
}

function rank(role: SourceFile['role']): number {
  return role === 'combined' || role === 'certificate' ? 0 : role === 'chain' ? 1 : 2;
}

function readBlocks(bytes: Buffer, source: SourceFile, out: Collected, seen: Set<string>): void {
  const text = bytes.toString('latin1');
  const isPem = text.includes('-----BEGIN ');
  const blocks = isPem ? parsePem(text) : [{ label: source.role === 'key' ? 'PRIVATE KEY' : 'CERTIFICATE', der: bytes }];
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (certs.length > MAX_CERTIFICATES) {
    out.defects.push({ code: `INVALID_CERTIFICATE:${source.path}`, message: `${source.path}: ${certs.length} certificates in one file is more than any chain needs`, severity: 'replace', path: source.path });
    return;
  }
  if (source.role !== 'key' && certs.length === 0) {
    out.defects.push({ code: `INVALID_CERTIFICATE:${source.path}`, message: `${source.path}: no certificate in this file${keys.length ? ' (it holds a private key)' : ''}`, severity: 'replace', path: source.path });
  }
  for (const block of certs) {
    try {
      const parsed = parseCertificate(block.der);
      if (seen.has(parsed.summary.fingerprint)) continue;
      seen.add(parsed.summary.fingerprint);
      out.certificates.push({ parsed, path: source.path });
    } catch (error) {
      out.defects.push({ code: `INVALID_CERTIFICATE:${source.path}`, message: `${source.path}: a certificate cannot be parsed (${(error as Error).message})`, severity: 'replace', path: source.path });
    }
  }
  if (source.role === 'key' || source.role === 'combined') {
    if (keys.length === 0) {
      out.defects.push({ code: `MISSING_KEY:${source.path}`, message: `${source.path}: no private key in this file`, severity: 'replace', path: source.path });
    }
    for (const block of keys) {
      try {
        const key = isPem
          ? createPrivateKey(`-----BEGIN ${block.label}-----\n${block.der.toString('base64')}\n-----END ${block.label}-----\n`)
          : createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' });
        out.keys.push({ key, path: source.path });
      } catch (error) {
        out.defects.push({ code: `INVALID_KEY:${source.path}`, message: `${source.path}: the private key cannot be read (${(error as Error).message})`, severity: 'replace', path: source.path });
      }
    }
  }
}

function certificateDefects(cert: ParsedCertificate, path: string, ctx: InspectContext, providerIssued: boolean): Defect[] {
  const defects: Defect[] = [];
  const now = ctx.now.getTime();
  const daysLeft = (cert.notAfter.getTime() - now) / DAY;
  const threshold = providerIssued ? ctx.policy.providerThresholdDays : ctx.policy.otherThresholdDays;
  if (cert.notAfter.getTime() <= now) {
    defects.push({ code: 'EXPIRED', cpanel: 'OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED', message: `the certificate expired on ${utc(cert.notAfter)}`, severity: 'replace', path });
  } else if (cert.notBefore.getTime() > now) {
    defects.push({ code: 'NOT_YET_VALID', cpanel: 'OPENSSL_VERIFY:0:9:CERT_NOT_YET_VALID', message: `the certificate is not valid before ${utc(cert.notBefore)}`, severity: 'replace', path });
  } else if (daysLeft < threshold) {
    defects.push({
      code: 'ALMOST_EXPIRED',
      message: `the certificate expires in ${daysLeft.toFixed(2)} days, under the ${threshold}-day threshold for ${providerIssued ? 'certificates from the configured provider' : 'other certificates'}`,
      severity: 'replace', path,
    });
  }
  const sig = cert.summary.signatureAlgorithm.toLowerCase();
  if (sig.includes('md5') || sig.includes('md2') || sig.includes('sha1')) {
    defects.push({ code: 'WEAK_SIGNATURE', message: `the signature algorithm ${cert.summary.signatureAlgorithm} is weak`, severity: 'replace', path });
  }
  const key = /^(RSA|EC) (\S+)$/.exec(cert.summary.key);
  if (key && ((key[1] === 'RSA' && Number(key[2]) < 2048) || (key[1] === 'EC' && !['P-256', 'P-384', 'P-521'].includes(key[2]!)))) {
    defects.push({ code: 'WEAK_KEY', message: `the key ${cert.summary.key} is weak (RSA needs 2048 bits, EC at least P-256)`, severity: 'replace', path });
  }
  if (!cert.summary.hasSan) defects.push({ code: 'NO_SAN', message: 'the certificate has no subjectAltName extension', severity: 'replace', path });
  const eku = cert.summary.extendedKeyUsage;
  if (!eku || !(eku.includes('serverAuth') || eku.includes('anyExtendedKeyUsage'))) {
    defects.push({
      code: 'NO_SERVER_AUTH_EKU',
      message: eku ? `the extended key usage (${eku.join(', ')}) does not allow serverAuth` : 'the certificate has no extended key usage extension with serverAuth',
      severity: 'replace', path,
    });
  }
  if (cert.summary.selfSigned) {
    defects.push({
      code: 'SELF_SIGNED', cpanel: 'OPENSSL_VERIFY:0:18:DEPTH_ZERO_SELF_SIGNED_CERT',
      message: ctx.policy.caConfigured ? 'the certificate is self-signed; a CA-signed one is requested' : 'the certificate is self-signed (no CA is configured)',
      severity: ctx.policy.caConfigured ? 'upgrade' : 'info', path,
    });
  }
  return defects;
}

function keyDefects(cert: ParsedCertificate, keys: Collected['keys'], sources: SourceFile[]): Defect[] {
  const expectsKey = sources.some((s) => s.role === 'key' || s.role === 'combined');
  if (!expectsKey) return [];
  if (keys.length === 0) return []; // reported as MISSING_KEY / INVALID_KEY while collecting
  const matching = keys.find(({ key }) => {
    try {
      return cert.x509.checkPrivateKey(key);
    } catch {
      return false;
    }
  });
  if (matching) return [];
  return [{ code: 'KEY_MISMATCH', message: `the private key in ${keys[0]!.path} does not belong to the certificate`, severity: 'replace', path: keys[0]!.path }];
}

function nameDefects(cert: ParsedCertificate, names: string[]): Defect[] {
  const defects: Defect[] = [];
  const primary = names[0];
  if (primary && !isValidHostname(primary)) {
    defects.push({ code: 'INVALID_HOSTNAME', message: `"${primary}" is not a valid DNS host name; no CA can issue for it`, severity: 'warning' });
  }
  const missing = names.filter((n) => !cert.dnsNames.some((c) => nameCovers(c, n)));
  if (missing.length) {
    defects.push({ code: 'NAME_MISMATCH', message: `the certificate does not cover ${missing.join(', ')}`, severity: 'replace' });
  }
  return defects;
}

function utc(date: Date): string {
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
