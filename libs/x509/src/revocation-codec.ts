import { X509Certificate, createHash, verify as verifySignature } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, CRLDistributionPoints, Certificate, id_ce_cRLDistributionPoints } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { peculiarX509 } from './peculiar.js';
import type { RevocationResult, RevocationStatus } from './revocation.js';

// The ASN.1 side of revocation checks (OCSP requests and responses, CRLs), loaded by revocation.ts only when a
// check goes on the network: these libraries cost ~0.3 s of CPU and ~20 MB to load, which a run that checks
// nothing online (a healthy run, a renewal) should not pay.

const SHA1 = '1.3.14.3.2.26';
const CRL_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];
/** Signature algorithms of OCSP responses, by OID, to node's digest names (null: the key implies it, Ed25519). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** The CRL distribution point URLs of a certificate (http and https only). */
export function crlUrls(der: Uint8Array): string[] {
  try {
    const cert = AsnConvert.parse(der, Certificate);
    const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_cRLDistributionPoints);
    if (!ext) return [];
    const points = AsnConvert.parse(ext.extnValue.buffer, CRLDistributionPoints);
    return points
      .flatMap((p) => p.distributionPoint?.fullName ?? [])
      .map((n) => n.uniformResourceIdentifier)
      .filter((u): u is string => typeof u === 'string' && /^https?:\/\//i.test(u));
  } catch {
    return [];
  }
}

/** The DER body of an OCSP request for the certificate, and the CertID to find in the answer. */
export function ocspRequest(certDer: Uint8Array, issuerDer: Uint8Array): { body: Buffer; certId: CertID } {
  const certId = certIdOf(certDer, issuerDer);
  const body = Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
  return { body, certId };
}

/** What an OCSP responder's answer says about the certificate, once its signature and dates are checked. */
export function ocspVerdict(url: string, answer: Buffer, certId: CertID, issuer: X509Certificate, now: Date): RevocationResult {
  const result = (status: RevocationStatus, detail: string, extra: Partial<RevocationResult> = {}): RevocationResult => ({
    method: 'ocsp',
    status,
    url,
    detail,
    ...extra,
  });
  try {
    const response = AsnConvert.parse(answer, OCSPResponse);
    if (response.responseStatus !== OCSPResponseStatus.successful) {
      return result('unreachable', `OCSP responder ${url} answered "${OCSPResponseStatus[response.responseStatus] ?? response.responseStatus}"`);
    }
    if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic)
      return result('invalid', `OCSP responder ${url} sent no basic response`);
    const basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
    const signer = authorizedSigner(basic, issuer);
    if (!signer) return result('invalid', `the OCSP response from ${url} is not signed by the issuer or a responder it authorised`);
    const single = basic.tbsResponseData.responses.find((r) => sameCertId(r.certID, certId));
    if (!single) return result('invalid', `the OCSP response from ${url} does not mention this certificate`);
    if (single.nextUpdate && single.nextUpdate.getTime() < now.getTime()) {
      return result('invalid', `the OCSP response from ${url} is stale (next update ${single.nextUpdate.toISOString()})`);
    }
    if (single.thisUpdate.getTime() > now.getTime() + 5 * 60_000) return result('invalid', `the OCSP response from ${url} is dated in the future`);
    const status = single.certStatus;
    if (status.revoked) {
      const reason =
        status.revoked.revocationReason !== undefined
          ? (CRL_REASONS[Number(status.revoked.revocationReason)] ?? String(status.revoked.revocationReason))
          : undefined;
      return result('revoked', `the CA revoked this certificate on ${status.revoked.revocationTime.toISOString()}${reason ? ` (${reason})` : ''}`, {
        revokedAt: status.revoked.revocationTime.toISOString(),
        ...(reason ? { reason } : {}),
      });
    }
    if (status.good !== undefined) return result('good', `OCSP responder ${url}: good`);
    return result('unknown', `OCSP responder ${url} does not know this certificate`);
  } catch (error) {
    return result('invalid', `OCSP responder ${url} sent an unreadable response (${(error as Error).message})`);
  }
}

/** What a CRL says about the certificate, once its issuer, signature and dates are checked. */
export async function crlVerdict(url: string, answer: Buffer, certDer: Uint8Array, issuerDer: Uint8Array, now: Date): Promise<RevocationResult> {
  const result = (status: RevocationStatus, detail: string, extra: Partial<RevocationResult> = {}): RevocationResult => ({
    method: 'crl',
    status,
    url,
    detail,
    ...extra,
  });
  const x509 = await peculiarX509();
  try {
    const crl = new x509.X509Crl(new Uint8Array(answer));
    const issuer = new x509.X509Certificate(new Uint8Array(issuerDer));
    if (crl.issuer !== issuer.subject || !(await crl.verify({ publicKey: issuer }))) {
      return result('invalid', `the CRL at ${url} is not signed by the certificate's issuer`);
    }
    if (crl.nextUpdate && crl.nextUpdate.getTime() < now.getTime())
      return result('invalid', `the CRL at ${url} is stale (next update ${crl.nextUpdate.toISOString()})`);
    const entry = crl.findRevoked(new x509.X509Certificate(new Uint8Array(certDer)));
    if (!entry) return result('good', `CRL ${url}: not listed`);
    const reason = entry.reason !== undefined ? CRL_REASONS[Number(entry.reason)] : undefined;
    return result('revoked', `the CA revoked this certificate on ${entry.revocationDate.toISOString()}${reason ? ` (${reason})` : ''} (CRL ${url})`, {
      revokedAt: entry.revocationDate.toISOString(),
      ...(reason ? { reason } : {}),
    });
  } catch (error) {
    return result('invalid', `the CRL at ${url} cannot be read (${(error as Error).message})`);
  }
}

/** RFC 6960 CertID with SHA-1, as responders universally accept: hashes of the issuer's name and key, and the serial. */
function certIdOf(certDer: Uint8Array, issuerDer: Uint8Array): CertID {
  const cert = AsnConvert.parse(certDer, Certificate);
  const issuer = AsnConvert.parse(issuerDer, Certificate);
  const sha1 = (data: ArrayBuffer | Uint8Array) => new OctetString(createHash('sha1').update(new Uint8Array(data)).digest());
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: sha1(AsnConvert.serialize(cert.tbsCertificate.issuer)),
    issuerKeyHash: sha1(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey),
    serialNumber: cert.tbsCertificate.serialNumber,
  });
}

function bytesEqual(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  return Buffer.from(new Uint8Array(a)).equals(Buffer.from(new Uint8Array(b)));
}

function sameCertId(a: CertID, b: CertID): boolean {
  return (
    a.hashAlgorithm.algorithm === b.hashAlgorithm.algorithm &&
    bytesEqual(a.serialNumber, b.serialNumber) &&
    bytesEqual(a.issuerNameHash.buffer, b.issuerNameHash.buffer) &&
    bytesEqual(a.issuerKeyHash.buffer, b.issuerKeyHash.buffer)
  );
}

/** The issuer itself, or a certificate in the response that the issuer signed for OCSPSigning (RFC 6960 4.2.2.2). */
function authorizedSigner(basic: BasicOCSPResponse, issuer: X509Certificate): X509Certificate | null {
  const data = basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData);
  const algorithm = basic.signatureAlgorithm.algorithm;
  if (!(algorithm in SIGNATURE_DIGESTS)) return null;
  const digest = SIGNATURE_DIGESTS[algorithm]!;
  const signs = (cert: X509Certificate) => {
    try {
      return verifySignature(digest, new Uint8Array(data), cert.publicKey, new Uint8Array(basic.signature));
    } catch {
      return false;
    }
  };
  if (signs(issuer)) return issuer;
  for (const asn of basic.certs ?? []) {
    let candidate: X509Certificate;
    try {
      candidate = new X509Certificate(Buffer.from(AsnConvert.serialize(asn)));
    } catch {
      continue;
    }
    const delegated = candidate.checkIssued(issuer) && candidate.verify(issuer.publicKey) && (candidate.keyUsage ?? []).includes(OCSP_SIGNING);
    if (delegated && signs(candidate)) return candidate;
  }
  return null;
}
