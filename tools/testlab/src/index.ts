// The test lab: installs (when missing and root) and starts the real servers that tests and benchmarks need,
// on loopback addresses, each in its own temp directory. A server that cannot start throws a LabError with its
// own output; tests never skip.
export { LabError, labDir, run, mustRun, ServerProcess, portOpen, sleep, type RunResult } from './process.js';
export { ensurePackages } from './packages.js';
export { randomLoopback, addLoopbackAlias } from './loopback.js';
export { IPV6_LOOPBACK, holdIpv6Loopback } from './ipv6-loopback.js';
export { CLI_PATH, CLI_UNDER_TEST_PATH, cliNodeFlags, runCli } from './cli.js';
export { startNginx, type Nginx, type NginxOptions, type NginxSite } from './nginx.js';
export { startPebble, pebbleFailure, type Pebble, type PebbleOptions } from './pebble.js';
export { ensureAtd, atJobsContaining, removeAtJobsContaining, type AtJob } from './atd.js';
export { startDnsLab, type DnsLab, type DnsLabAddresses, type DnsLabOptions } from './bind.js';
export {
  startDnssecLab,
  DNSSEC_LAB_ZONES,
  DNSSEC_LAB_NAMES,
  type DnssecLab,
  type DnssecLabOptions,
  type DnssecLabAddresses,
  type LabDs,
} from './dnssec-lab.js';
export { startAcmeLab, type AcmeLab, type AcmeLabOptions, type ConfigFields, type LabCaEndpoint } from './acme-lab.js';
export { startUnbound, type Unbound, type UnboundOptions } from './unbound.js';
export { startNats, type Nats, type NatsOptions, type NatsUser } from './nats.js';
export { createCa, selfSignedCert, privateKey, type LabCa, type LabCert, type IssueOptions } from './certs.js';
export { startDovecot, type Dovecot, type DovecotOptions } from './dovecot.js';
export { startExim, type Exim, type EximOptions } from './exim.js';
export { startOcspResponder, freePort, type OcspResponder } from './ocsp.js';
export { startNodeExporter, type NodeExporter, type NodeExporterOptions } from './node-exporter.js';
export { startStaticHttp, type StaticHttp, type StaticHttpOptions } from './http-static.js';
export { startSmtpReceiver, type SmtpReceiver, type SmtpReceiverOptions } from './smtp.js';
export { startPureFtpd, type PureFtpd, type PureFtpdOptions } from './pureftpd.js';
export { fileTimes } from './files.js';
export {
  startRateLimitingAcmeDouble,
  type RateLimitingAcmeDouble,
  type RateLimitingAcmeDoubleBehaviour,
  type RateLimitingAcmeDoubleRequest,
} from './rate-limiting-acme-double.js';
export {
  startIssuingAcmeDouble,
  type IssuingAcmeDouble,
  type IssuingAcmeDoubleOptions,
  type IssuingAcmeDoubleProfile,
  type IssuingAcmeDoubleAri,
  type IssuingAcmeDoubleCertificate,
  type IssuingAcmeDoubleRequest,
} from './issuing-acme-double.js';
export type { IssuingAcmeDoubleCaChecks } from './issuing-acme-double-ca-checks.js';
export { startProofLab, copyCaFile, PROOF_CAA_IDENTITY, type ProofLab, type ProofLabOptions, type ProofName, type ProofWorld } from './proof-lab.js';
export type { DnsPersistCheck } from './issuing-acme-double-dns-persist.js';
export { samplesOf, valueOf, type Sample } from './prometheus-samples.js';
export { makeStaleSecondary, type StaleSecondaryRecords } from './stale-secondary.js';
