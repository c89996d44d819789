import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import {
  CertsmithError,
  type CertificateSummary,
  type Defect,
  type InspectContext,
  type Inspection,
  type Inspector,
  type LiveObservation,
  type NewMaterial,
  type RenewalTiming,
  type Resolution,
  type Resolver,
  type ServiceMaterial,
  type SourceFile,
  isValidHostname,
  renewalByLifetime,
} from '@certsmith/core';
import { parseCertificate, publicKeyBytes, type ParsedCertificate } from './certificate.js';
import { verifyChain } from './chain.js';
import { encodedNames } from './der.js';
import type { LiveProbe } from './live-probe.js';
import { nameCovers } from './name-coverage.js';
import { parsePem } from './pem.js';
import { RevocationChecker, type RevocationResult } from './revocation.js';
import { TrustStore } from './trust-store.js';
import { privateKeyOf } from './keys.js';
import { leafRuleDefects, servedCertificateDefect, weakKeyReason } from './leaf-rules.js';
import { hasExpired, notYetValid } from './validity.js';

const DAY = 86_400_000;
/** Larger files are not certificates anyone meant to install; refuse before parsing. */
const MAX_FILE_BYTES = 1024 * 1024;
/** A chain needs a handful; a bundle of hundreds is a mistake (or an attack on the parser). */
const MAX_CERTIFICATES = 100;
const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);

export interface CertificateInspectorOptions {
  /** What chains must verify to; the system store (or SSL_CERT_FILE) by default. */
  trustStore?: TrustStore;
  /** OCSP/CRL checks, made when the policy allows network checks (`live`); null turns them off. */
  revocation?: RevocationChecker | null;
}

interface Collected {
  files: string[];
  certificates: { parsed: ParsedCertificate; path: string }[];
  /** Private keys as found (DER), parsed only when the fast check cannot decide: OpenSSL's key parsing is slow. */
  keys: { der: Buffer; label: string; pem: boolean; path: string }[];
  defects: Defect[];
}

/**
 * Every replacement rule of checkallsslcerts over what an installer read: the files (offline rules, chain to the
 * trust store), the CA's revocation status, the name in DNS, and what the service presents live. Never throws
 * for bad input: each problem becomes a defect naming the file.
 */
export class CertificateInspector implements Inspector {
  private readonly trustStore: TrustStore;
  private readonly revocation: RevocationChecker | null;
  /** One answer per name and per certificate in a run: services share them. */
  private readonly resolutions = new Map<string, Promise<Resolution>>();
  private readonly revocations = new Map<string, Promise<RevocationResult | null>>();

  constructor(
    private readonly live?: LiveProbe,
    private readonly resolver?: Resolver,
    options: CertificateInspectorOptions = {},
  ) {
    this.trustStore = options.trustStore ?? TrustStore.fromEnvironment();
    this.revocation = options.revocation === undefined ? new RevocationChecker() : options.revocation;
  }

  async inspect(material: ServiceMaterial, ctx: InspectContext): Promise<Inspection> {
    try {
      return await this.inspectMaterial(material, ctx);
    } catch (error) {
      // A bug must not stop the run: the stage reports it and the certificate is left alone.
      return {
        files: material.sources.map((s) => s.path),
        live: [],
        summary: null,
        chain: [],
        providerIssued: false,
        defects: [{ code: 'INSPECTION_FAILED', message: `the inspection itself failed: ${(error as Error)?.message ?? String(error)}`, severity: 'warning' }],
      };
    }
  }

  private async inspectMaterial(material: ServiceMaterial, ctx: InspectContext): Promise<Inspection> {
    // The network questions start first and run while the files are checked.
    const livePromise = this.observe(material, ctx);
    const dnsPromise = this.hostnameDefects(ctx);
    const collected = collect(material.sources);
    const defects = [...collected.defects];
    const files = collected.files;
    // The service presents the first certificate of its certificate file (collect reads that file first).
    const leaf = collected.certificates[0];
    const misplaced = servedCertificateDefect(collected.certificates);
    let summary: CertificateSummary | null = null;
    let chain: CertificateSummary[] = [];
    let providerIssued = false;
    if (!leaf) {
      if (!collected.defects.some((d) => /^(EMPTY|INVALID|MISSING)_CERTIFICATE/.test(d.code))) {
        defects.unshift({ code: 'NO_SSL', message: 'No SSL certificate is installed.', severity: 'replace' });
      }
      defects.push(...invalidHostname(ctx.target.names));
    } else if (misplaced) {
      summary = leaf.parsed.summary;
      chain = collected.certificates.slice(1).map((c) => c.parsed.summary);
      defects.push(misplaced, ...invalidHostname(ctx.target.names));
    } else {
      const others = collected.certificates.filter((c) => c !== leaf);
      summary = leaf.parsed.summary;
      chain = others.map((c) => c.parsed.summary);
      providerIssued = matchesProvider(ctx.policy.providerIssuerPatterns, leaf.parsed.summary.issuer);
      defects.push(...certificateDefects(leaf.parsed, leaf.path, ctx, providerIssued), ...leafRuleDefects(leaf));
      defects.push(...keyDefects(leaf.parsed, collected.keys, material.sources));
      defects.push(...invalidHostname(ctx.target.names), ...nameMismatch(leaf.parsed, ctx.target.names));
      const renewBy = renewalByLifetime(leaf.parsed.notBefore, leaf.parsed.notAfter, providerIssued, ctx.policy).dueAt;
      const path = this.chainDefects(leaf, others, ctx, renewBy, providerIssued, defects);
      defects.push(...(await this.revocationDefects(leaf, path[1] ?? null, ctx)), ...(await this.chainRevocationDefects(path, others, ctx)));
    }
    defects.push(...keyModeDefects(material.sources, new Set(collected.keys.map((k) => k.path))));
    defects.push(...(await dnsPromise));
    const observations = await livePromise;
    for (const observation of observations) {
      if (!observation.ok) {
        defects.push({
          code: observation.code ?? 'LIVE_UNREACHABLE',
          message: `${observation.endpoint}: ${observation.error ?? 'no TLS handshake'}`,
          severity: 'warning',
        });
      } else if (leaf && observation.fingerprint !== leaf.parsed.summary.fingerprint) {
        defects.push({
          code: 'STALE_LIVE',
          message: `${observation.endpoint} serves a different certificate (sha256 ${observation.fingerprint?.slice(0, 16)}…) than the files hold: reload the service`,
          severity: 'warning',
        });
      }
    }
    const live: LiveObservation[] = observations.map(({ endpoint, ok, fingerprint, error }) => ({
      endpoint,
      ok,
      ...(fingerprint ? { fingerprint } : {}),
      ...(error ? { error } : {}),
    }));
    return { files, live, summary, chain, defects, providerIssued };
  }

  summarize(certificatePem: string): CertificateSummary {
    const block = parsePem(certificatePem).find((b) => CERTIFICATE_LABELS.has(b.label));
    if (!block) throw new CertsmithError('INVALID_CERTIFICATE', 'no PEM certificate in the text');
    try {
      return parseCertificate(block.der).summary;
    } catch (error) {
      throw new CertsmithError('INVALID_CERTIFICATE', `not a certificate: ${(error as Error).message}`);
    }
  }

  verifyIssued(material: NewMaterial, names: string[], now: Date): Defect[] {
    const block = parsePem(material.certificatePem).find((b) => CERTIFICATE_LABELS.has(b.label));
    if (!block) return [{ code: 'INVALID_CERTIFICATE', message: 'the issuer returned no certificate', severity: 'replace' }];
    let parsed: ParsedCertificate;
    try {
      parsed = parseCertificate(block.der);
    } catch (error) {
      return [{ code: 'INVALID_CERTIFICATE', message: `the issuer returned an unreadable certificate: ${(error as Error).message}`, severity: 'replace' }];
    }
    const defects: Defect[] = [];
    try {
      if (!parsed.x509.checkPrivateKey(privateKeyOf(material.keyPem))) {
        defects.push({ code: 'KEY_MISMATCH', message: 'the certificate does not belong to the key it was ordered with', severity: 'replace' });
      }
    } catch {
      defects.push({ code: 'KEY_MISMATCH', message: 'the key could not be checked against the certificate', severity: 'replace' });
    }
    const missing = names.filter((n) => !parsed.dnsNames.some((c) => nameCovers(c, n)));
    if (missing.length) defects.push({ code: 'NAME_MISMATCH', message: `the certificate does not cover ${missing.join(', ')}`, severity: 'replace' });
    if (parsed.notAfter.getTime() <= now.getTime())
      defects.push({ code: 'EXPIRED', message: 'the issued certificate is already expired', severity: 'replace' });
    return defects;
  }

  private async observe(material: ServiceMaterial, ctx: InspectContext) {
    if (!this.live || !ctx.policy.live || material.endpoints.length === 0) return [];
    const endpoints = material.endpoints.map((e) => ({ ...e, servername: e.servername ?? ctx.target.names[0] }));
    return this.live.observe(endpoints, ctx.signal);
  }

  /** Whether a trusted certificate's subject is this certificate's issuer (its encoded Name, else node's text of it). */
  private namedByTrusted(certificate: ParsedCertificate): boolean {
    const names = encodedNames(certificate.der);
    return names ? this.trustStore.hasSubjectDer(names.issuer) : this.trustStore.bySubjectName(certificate.issuerName).length > 0;
  }

  /**
   * Verifies the chain to the trust store, reports chain certificates close to expiry; returns the path as far as
   * it was built (the leaf's issuer at [1]), verified or not.
   */
  private chainDefects(
    leaf: Collected['certificates'][number],
    others: Collected['certificates'],
    ctx: InspectContext,
    renewBy: Date,
    providerIssued: boolean,
    defects: Defect[],
  ): X509Certificate[] {
    // A self-signed leaf alone, neither trusted itself nor named by a trusted certificate: verifyChain would stop at
    // depth 0 with what SELF_SIGNED already reports. Said here without OpenSSL parsing the leaf (the healthy path).
    if (
      others.length === 0 &&
      leaf.parsed.summary.selfSigned &&
      !this.trustStore.containsFingerprint(leaf.parsed.summary.fingerprint) &&
      !this.namedByTrusted(leaf.parsed)
    )
      return [];
    const verdict = verifyChain(
      leaf.parsed.x509,
      others.map((c) => c.parsed.x509),
      this.trustStore,
      ctx.now,
    );
    const failure = verdict.failure;
    // Depth 0 self-signed and expiry are reported by their own rules, with the same cPanel codes.
    // A self-signed leaf whose key usage has no keyCertSign makes OpenSSL say 20 (no issuer) rather than 18: same finding.
    const covered =
      failure &&
      failure.depth === 0 &&
      (['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'].includes(failure.name) || leaf.parsed.summary.selfSigned);
    if (failure && !covered) {
      const dated = failure.name === 'CERT_HAS_EXPIRED' || failure.name === 'CERT_NOT_YET_VALID';
      defects.push({
        code: failure.code === null ? failure.name : `OPENSSL_VERIFY:${failure.depth}:${failure.code}:${failure.name}`,
        message: `the chain does not verify to the trust store at depth ${failure.depth} (${failure.subject}): ${failure.reason}`,
        // Ordering again from the provider that issued it cannot fix its own chain (a lab CA, a private root): warn.
        severity: dated ? 'replace' : ctx.policy.caConfigured && !providerIssued ? 'upgrade' : 'warning',
        path: leaf.path,
      });
    }
    const now = ctx.now.getTime();
    for (const ca of others) {
      const daysLeft = (ca.parsed.notAfter.getTime() - now) / DAY;
      // Due when the chain breaks before the certificate's own renewal would replace it: a fixed threshold here would
      // re-order a short-lived certificate on every run while its CA's intermediate nears its end.
      if (daysLeft > 0 && ca.parsed.notAfter.getTime() < renewBy.getTime()) {
        defects.push({
          code: 'CA_CERTIFICATE_ALMOST_EXPIRED',
          message: `the chain certificate "${ca.parsed.summary.subject}" expires in ${daysLeft.toFixed(2)} days (${utc(ca.parsed.notAfter)}), before the certificate itself is due for renewal (${utc(renewBy)})`,
          // The chain still verifies: as for ALMOST_EXPIRED, only a CA-signed certificate replaces it until then.
          severity: 'upgrade',
          path: ca.path,
        });
      }
    }
    return verdict.failure ? verdict.path.slice(0, 2) : verdict.path;
  }

  private async revocationDefects(leaf: Collected['certificates'][number], issuer: X509Certificate | null, ctx: InspectContext): Promise<Defect[]> {
    const cert = leaf.parsed;
    if (!this.revocation || !ctx.policy.live || cert.summary.selfSigned || hasExpired(cert.notAfter, ctx.now)) return [];
    const hasPointer = cert.hasOcsp || cert.der.includes(CRL_DP_OID);
    if (!hasPointer) return [];
    if (!issuer) {
      return [
        {
          code: 'REVOCATION_UNCHECKED',
          message: 'the revocation status cannot be asked: the issuer certificate is neither in the files nor in the trust store',
          severity: 'info',
          path: leaf.path,
        },
      ];
    }
    const result = await this.revocationOf(cert.summary.fingerprint, cert.der, issuer.raw, ctx);
    if (!result) return [];
    const code = `${result.method.toUpperCase()}_${result.status.toUpperCase()}`;
    const severity = result.status === 'revoked' ? 'replace' : result.status === 'good' ? 'info' : 'warning';
    return [{ code, message: result.detail, severity, path: leaf.path }];
  }

  /**
   * Revocation of each CA certificate of the verified path below the trust anchor (a revoked intermediate makes
   * browsers refuse the leaf), asked as for the leaf and cached per certificate for the run.
   */
  private async chainRevocationDefects(path: X509Certificate[], others: Collected['certificates'], ctx: InspectContext): Promise<Defect[]> {
    if (!this.revocation || !ctx.policy.live || path.length < 3) return [];
    const checks = path.slice(1, -1).map(async (ca, i): Promise<Defect[]> => {
      const der = ca.raw;
      if (!ca.infoAccess?.includes('OCSP - URI:') && !der.includes(CRL_DP_OID)) return [];
      const fingerprint = ca.fingerprint256.replaceAll(':', '').toLowerCase();
      const result = await this.revocationOf(fingerprint, der, path[i + 2]!.raw, ctx);
      if (!result) return [];
      const file = others.find((c) => c.parsed.summary.fingerprint === fingerprint)?.path;
      const severity = result.status === 'revoked' ? 'replace' : result.status === 'good' ? 'info' : 'warning';
      const subject = ca.subject?.split('\n').join(', ') ?? '';
      return [
        {
          code: `${result.method.toUpperCase()}_${result.status.toUpperCase()}`,
          message: `the chain certificate "${subject}": ${result.detail}`,
          severity,
          ...(file ? { path: file } : {}),
        },
      ];
    });
    return (await Promise.all(checks)).flat();
  }

  /** One OCSP/CRL question per certificate and run: services and sites share their certificates. */
  private revocationOf(fingerprint: string, der: Buffer, issuerDer: Buffer, ctx: InspectContext): Promise<RevocationResult | null> {
    let pending = this.revocations.get(fingerprint);
    if (!pending) {
      pending = this.revocation!.check(der, issuerDer, ctx.now, ctx.signal);
      this.revocations.set(fingerprint, pending);
    }
    return pending;
  }

  /**
   * cPanel: the hostname must resolve. Asked through the Resolver (iterative, from the root) when one is bound and
   * the policy allows network checks (`live`), as handshakes and revocation are.
   */
  private async hostnameDefects(ctx: InspectContext): Promise<Defect[]> {
    const primary = ctx.target.names[0];
    if (!this.resolver || !ctx.policy.live || !primary || !isValidHostname(primary)) return [];
    let pending = this.resolutions.get(primary);
    if (!pending) {
      pending = this.resolver.resolveAddresses(primary, ctx.signal).catch((error: unknown): Resolution => ({
        name: primary,
        outcome: 'error',
        addresses: [],
        chosen: null,
        cnames: [],
        path: [],
        detail: (error as Error)?.message ?? String(error),
      }));
      this.resolutions.set(primary, pending);
    }
    const resolution = await pending;
    if (resolution.outcome === 'ok' && resolution.addresses.length > 0) return [];
    if (resolution.outcome === 'nxdomain' || resolution.outcome === 'nodata' || resolution.outcome === 'ok') {
      return [
        {
          code: 'HOSTNAME_DOES_NOT_RESOLVE',
          message: `"${primary}" does not resolve (${resolution.outcome === 'nxdomain' ? 'no such name' : 'no A or AAAA record'}); a CA cannot validate it`,
          severity: 'warning',
        },
      ];
    }
    return [
      {
        code: 'HOSTNAME_RESOLUTION_FAILED',
        message: `"${primary}" could not be resolved (${resolution.outcome}${resolution.detail ? `: ${resolution.detail}` : ''})`,
        severity: 'warning',
      },
    ];
  }
}

/** DER of the CRL distribution points extension's OID (2.5.29.31): a cheap test before parsing for it. */
const CRL_DP_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x1f]);

function collect(sources: SourceFile[]): Collected {
  const out: Collected = { files: [], certificates: [], keys: [], defects: [] };
  const seen = new Set<string>();
  const leafFirst = [...sources].sort((a, b) => rank(a.role) - rank(b.role));
  for (const source of leafFirst) {
    const holdsCertificate = source.role !== 'key';
    if ('error' in source) {
      if (source.error === 'unreadable') {
        out.defects.push({
          code: holdsCertificate ? `INVALID_CERTIFICATE:${source.path}` : `INVALID_KEY:${source.path}`,
          message: `${source.path}: cannot be read (${source.detail})`,
          severity: 'replace',
          path: source.path,
        });
      } else if (holdsCertificate && source.role !== 'chain' && sources.some((s) => 'bytes' in s)) {
        // Something of the service is there but its certificate is not; nothing at all is NO_SSL.
        out.defects.push({
          code: `MISSING_CERTIFICATE:${source.path}`,
          message: `${source.path}: the file is missing`,
          severity: 'replace',
          path: source.path,
        });
      } else if (source.role === 'key' && sources.some((s) => s.role !== 'key' && 'bytes' in s)) {
        out.defects.push({
          code: `MISSING_KEY:${source.path}`,
          message: `${source.path}: the private key file is missing`,
          severity: 'replace',
          path: source.path,
        });
      }
      continue;
    }
    out.files.push(source.path);
    const bytes = Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength);
    if (bytes.length > MAX_FILE_BYTES) {
      out.defects.push({
        code: holdsCertificate ? `INVALID_CERTIFICATE:${source.path}` : `INVALID_KEY:${source.path}`,
        message: `${source.path}: ${bytes.length} bytes is too large for a ${holdsCertificate ? 'certificate' : 'key'} file (limit ${MAX_FILE_BYTES})`,
        severity: 'replace',
        path: source.path,
      });
      continue;
    }
    if (isBlank(bytes)) {
      if (holdsCertificate)
        out.defects.push({ code: `EMPTY_CERTIFICATE:${source.path}`, message: `${source.path}: the file is empty`, severity: 'replace', path: source.path });
      else out.defects.push({ code: `MISSING_KEY:${source.path}`, message: `${source.path}: the key file is empty`, severity: 'replace', path: source.path });
      continue;
    }
    readBlocks(bytes, source, out, seen);
  }
  return out;
}

function isBlank(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  return true;
}

function rank(role: SourceFile['role']): number {
  return role === 'combined' || role === 'certificate' ? 0 : role === 'chain' ? 1 : 2;
}

/** A DER SEQUENCE header: how a binary certificate or key file starts. */
function looksLikeDer(bytes: Buffer): boolean {
  return bytes[0] === 0x30 && (bytes[1] ?? 0) >= 0x80 && (bytes[1] ?? 0) <= 0x84;
}

function readBlocks(bytes: Buffer, source: SourceFile, out: Collected, seen: Set<string>): void {
  const isPem = bytes.includes('-----BEGIN ');
  const holdsCertificate = source.role !== 'key';
  const blocks = isPem
    ? parsePem(bytes.toString('latin1'))
    : looksLikeDer(bytes)
      ? [{ label: holdsCertificate ? 'CERTIFICATE' : 'PRIVATE KEY', der: bytes }]
      : [];
  const certs = blocks.filter((b) => CERTIFICATE_LABELS.has(b.label));
  const keys = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  const invalid = (message: string) =>
    out.defects.push({ code: `INVALID_CERTIFICATE:${source.path}`, message: `${source.path}: ${message}`, severity: 'replace', path: source.path });
  if (certs.length > MAX_CERTIFICATES) {
    invalid(`${certs.length} certificates in one file is more than any chain needs (limit ${MAX_CERTIFICATES})`);
    return;
  }
  if (holdsCertificate && certs.length === 0) {
    invalid(
      blocks.length === 0
        ? `neither PEM nor DER: no certificate can be read${isPem ? ' (the PEM blocks are damaged)' : ''}`
        : `no certificate in this file${keys.length ? ' (it holds a private key)' : ` (it holds ${blocks.map((b) => b.label).join(', ')})`}`,
    );
  }
  for (const block of certs) {
    try {
      const parsed = parseCertificate(block.der);
      if (seen.has(parsed.summary.fingerprint)) continue;
      seen.add(parsed.summary.fingerprint);
      out.certificates.push({ parsed, path: source.path });
    } catch (error) {
      const what =
        !isPem && looksLikeKey(block.der) ? 'this is a private key, not a certificate' : `a certificate cannot be parsed (${(error as Error).message})`;
      invalid(what);
    }
  }
  if (source.role === 'key' || source.role === 'combined') {
    // A combined file that holds nothing readable was reported once, as an invalid certificate.
    if (keys.length === 0 && source.role === 'key') {
      // A key file that holds something else is a bad key file, not a missing one.
      const holds =
        blocks.length === 0 ? `neither PEM nor DER${isPem ? ' (the PEM blocks are damaged)' : ''}` : `it holds ${blocks.map((b) => b.label).join(', ')}`;
      out.defects.push({
        code: `INVALID_KEY:${source.path}`,
        message: `${source.path}: no private key can be read (${holds})`,
        severity: 'replace',
        path: source.path,
      });
    } else if (keys.length === 0 && blocks.length > 0) {
      out.defects.push({ code: `MISSING_KEY:${source.path}`, message: `${source.path}: no private key in this file`, severity: 'replace', path: source.path });
    }
    for (const block of keys) out.keys.push({ der: block.der, label: block.label, pem: isPem, path: source.path });
  }
}

function looksLikeKey(der: Buffer): boolean {
  try {
    createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return true;
  } catch {
    return false;
  }
}

function certificateDefects(cert: ParsedCertificate, path: string, ctx: InspectContext, providerIssued: boolean): Defect[] {
  const defects: Defect[] = [];
  const now = ctx.now.getTime();
  const daysLeft = (cert.notAfter.getTime() - now) / DAY;
  if (hasExpired(cert.notAfter, now)) {
    defects.push({
      code: 'EXPIRED',
      cpanel: 'OPENSSL_VERIFY:0:10:CERT_HAS_EXPIRED',
      message: `the certificate expired on ${utc(cert.notAfter)}`,
      severity: 'replace',
      path,
    });
  } else if (notYetValid(cert.notBefore, now)) {
    defects.push({
      code: 'NOT_YET_VALID',
      cpanel: 'OPENSSL_VERIFY:0:9:CERT_NOT_YET_VALID',
      message: `the certificate is not valid before ${utc(cert.notBefore)}`,
      severity: 'replace',
      path,
    });
  } else {
    const timing = renewalByLifetime(cert.notBefore, cert.notAfter, providerIssued, ctx.policy);
    if (now >= timing.dueAt.getTime()) defects.push(almostExpired(cert, daysLeft, timing, path));
  }
  const sig = cert.summary.signatureAlgorithm.toLowerCase();
  if (sig.includes('md5') || sig.includes('md2') || sig.includes('sha1')) {
    defects.push({ code: 'WEAK_SIGNATURE', message: `the signature algorithm ${cert.summary.signatureAlgorithm} is weak`, severity: 'replace', path });
  }
  const key = /^(RSA|EC|DSA) (\S+)$/.exec(cert.summary.key);
  const weakKey = weakKeyReason(cert);
  if (weakKey || (key && ((key[1] !== 'EC' && Number(key[2]) < 2048) || (key[1] === 'EC' && !['P-256', 'P-384', 'P-521'].includes(key[2]!))))) {
    defects.push({
      code: 'WEAK_KEY',
      message: `the key ${cert.summary.key} is weak (${weakKey ?? 'RSA needs 2048 bits, EC at least P-256'})`,
      severity: 'replace',
      path,
    });
  }
  if (!cert.summary.hasSan) defects.push({ code: 'NO_SAN', message: 'the certificate has no subjectAltName extension', severity: 'replace', path });
  const eku = cert.summary.extendedKeyUsage;
  // anyExtendedKeyUsage alone is not serverAuth (Baseline Requirements 7.1.2.7.10): browsers refuse it for a server.
  if (!eku || !eku.includes('serverAuth')) {
    defects.push({
      code: 'NO_SERVER_AUTH_EKU',
      message: eku
        ? `the extended key usage (${eku.join(', ')}) does not allow serverAuth`
        : 'the certificate has no extended key usage extension with serverAuth',
      severity: 'replace',
      path,
    });
  }
  if (cert.summary.selfSigned) {
    defects.push({
      code: 'SELF_SIGNED',
      cpanel: 'OPENSSL_VERIFY:0:18:DEPTH_ZERO_SELF_SIGNED_CERT',
      message: ctx.policy.caConfigured
        ? 'the certificate is self-signed; a CA-signed one is requested'
        : 'the certificate is self-signed (no CA is configured)',
      severity: ctx.policy.caConfigured ? 'upgrade' : 'info',
      path,
    });
  }
  return defects;
}

function keyDefects(cert: ParsedCertificate, keys: Collected['keys'], sources: SourceFile[]): Defect[] {
  const expectsKey = sources.some((s) => s.role === 'key' || s.role === 'combined');
  if (!expectsKey || keys.length === 0) return []; // a missing key was reported while collecting
  // Fast path: the key file carries this certificate's public key (what X509_check_private_key compares).
  const publicBytes = publicKeyBytes(cert);
  if (publicBytes && keys.some((k) => k.der.includes(publicBytes))) return [];
  const defects: Defect[] = [];
  let readable = 0;
  for (const entry of keys) {
    let key: KeyObject;
    try {
      key = entry.pem
        ? createPrivateKey(`-----BEGIN ${entry.label}-----\n${entry.der.toString('base64')}\n-----END ${entry.label}-----\n`)
        : createPrivateKey({ key: entry.der, format: 'der', type: 'pkcs8' });
    } catch (error) {
      defects.push({
        code: `INVALID_KEY:${entry.path}`,
        message: `${entry.path}: the private key cannot be read (${(error as Error).message})`,
        severity: 'replace',
        path: entry.path,
      });
      continue;
    }
    readable++;
    try {
      if (cert.x509.checkPrivateKey(key)) return [];
    } catch {
      // a key of another type: not this certificate's
    }
  }
  if (readable > 0) {
    defects.push({
      code: 'KEY_MISMATCH',
      message: `the private key in ${keys[0]!.path} does not belong to the certificate`,
      severity: 'replace',
      path: keys[0]!.path,
    });
  }
  return defects;
}

/**
 * A private key that its group or every user can read: a defect no new certificate fixes. The installer narrows it to
 * 0600 in place (the service reads it as its owner); other bits (setuid, sticky) were never meant for a key either.
 */
function keyModeDefects(sources: SourceFile[], holdingKeys: Set<string>): Defect[] {
  const defects: Defect[] = [];
  for (const source of sources) {
    if (!('bytes' in source) || source.mode === undefined || !holdingKeys.has(source.path)) continue;
    const exposed = source.mode & 0o077;
    if (!exposed) continue;
    const who = [exposed & 0o070 ? 'its group' : '', exposed & 0o007 ? 'every user' : ''].filter(Boolean).join(' and ');
    defects.push({
      code: 'KEY_PERMISSIONS',
      message: `${source.path}: the private key is open to ${who} (mode ${octal(source.mode)}); it is narrowed to 0600 in place`,
      severity: 'warning',
      path: source.path,
      repair: { path: source.path, mode: 0o600 },
    });
  }
  return defects;
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function invalidHostname(names: string[]): Defect[] {
  const primary = names[0];
  if (primary && !isValidHostname(primary)) {
    return [{ code: 'INVALID_HOSTNAME', message: `"${primary}" is not a valid DNS host name; no CA can issue for it`, severity: 'warning' }];
  }
  return [];
}

function nameMismatch(cert: ParsedCertificate, names: string[]): Defect[] {
  const missing = names.filter((n) => !cert.dnsNames.some((c) => nameCovers(c, n)));
  if (!missing.length) return [];
  // A CA-signed certificate that covers some of the names still serves them: only a CA-signed one covering more may
  // take its place (a self-signed stopgap would break the names it covers); the pipeline decides whether it is due.
  const covers = names.some((n) => !missing.includes(n));
  return [
    {
      code: 'NAME_MISMATCH',
      message: `the certificate does not cover ${missing.join(', ')}`,
      names: missing,
      severity: covers && !cert.summary.selfSigned ? 'upgrade' : 'replace',
    },
  ];
}

/** The ALMOST_EXPIRED finding, naming the rule that made the certificate due. */
function almostExpired(cert: ParsedCertificate, daysLeft: number, timing: RenewalTiming, path: string): Defect {
  return {
    code: 'ALMOST_EXPIRED',
    message:
      timing.rule === 'threshold'
        ? `the certificate expires in ${daysLeft.toFixed(2)} days, under ${timing.reason}`
        : `the certificate expires in ${daysLeft.toFixed(2)} days: due for renewal since ${utc(timing.dueAt)}, at ${timing.reason}`,
    // Still valid and CA-signed: only a CA-signed certificate may take its place, so a failing CA (a rate limit,
    // an outage) never swaps it for a self-signed one; once it expires, EXPIRED ('replace') takes over.
    severity: cert.summary.selfSigned ? 'replace' : 'upgrade',
    path,
    renewal: { rule: timing.rule, dueAt: timing.dueAt.toISOString() },
  };
}

/**
 * Whether the issuer is the configured provider's. Patterns are matched against the issuer DN as the report shows it
 * (`C=US, O=cPanel\, Inc., CN=...`: RFC 4514 escapes a comma inside a value) and against the same text with the
 * escapes removed (`C=US, O=cPanel, Inc., CN=...`), so a pattern written as an administrator reads the name matches.
 */
export function matchesProvider(patterns: RegExp[], issuer: string): boolean {
  const plain = issuer.replace(/\\(.)/g, '$1');
  return patterns.some((re) => re.test(issuer) || (plain !== issuer && re.test(plain)));
}

function utc(date: Date): string {
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}
