// Certificate inspection (every offline replacement rule), keys, CSRs and self-signed certificates.
export { CertificateInspector } from './inspector.js';
export { TlsLiveProbe, describeEndpoint, type LiveProbe, type TlsObservation, type TlsLiveProbeOptions } from './live-probe.js';
export { TrustStore, SYSTEM_BUNDLE } from './trust-store.js';
export { parseCertificate, type ParsedCertificate, EKU_NAMES } from './certificate.js';
export { WebCryptoCsrFactory, createSelfSigned, generateKeys, algorithmOf, type SelfSignedOptions } from './keys.js';
export { parsePem, toPem, type PemBlock } from './pem.js';
export { nameCovers, isValidHostname } from './names.js';
