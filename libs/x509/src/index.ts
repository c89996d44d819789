// Certificate inspection (every replacement rule: files, chain, revocation, DNS, live), keys, CSRs and self-signed certificates.
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
export { CertificateInspector } from './inspector.js';
export { TlsLiveProbe, describeEndpoint, type LiveProbe, type TlsObservation, type TlsLiveProbeOptions } from './live-probe.js';
export { TrustStore, SYSTEM_BUNDLE } from './trust-store.js';
export { verifyChain, OPENSSL_VERIFY_ERRORS, type ChainVerdict, type ChainFailure, type VerifyErrorName } from './chain.js';
export { RevocationChecker, ocspUrls, crlUrls, type RevocationResult, type RevocationStatus, type RevocationCheckerOptions } from './revocation.js';
export { parseCertificate, type ParsedCertificate, EKU_NAMES } from './certificate.js';
export { readCertificateFields, type CertificateFields } from './certificate-fields.js';
export { WebCryptoCsrFactory, createSelfSigned, generateKeys, algorithmOf, privateKeyOf, type SelfSignedOptions } from './keys.js';
export { parsePem, toPem, type PemBlock } from './pem.js';
export { nameCovers } from './name-coverage.js';
export { readTlv, children, type Tlv } from './der.js';
