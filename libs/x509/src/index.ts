// Certificate inspection (every offline replacement rule), keys, CSRs and self-signed certificates.
export { CertificateInspector, type LiveProbe } from './inspector.js';
export { parseCertificate, type ParsedCertificate, EKU_NAMES } from './certificate.js';
export { WebCryptoCsrFactory, createSelfSigned, generateKeys, algorithmOf, type SelfSignedOptions } from './keys.js';
export { parsePem, toPem, type PemBlock } from './pem.js';
export { nameCovers, isValidHostname } from './names.js';
