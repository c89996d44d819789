// An RFC 8555 ACME client on undici and WebCrypto (written here: ordering is the product), with External
// Account Binding, alternate chains, revocation and ACME Renewal Information (RFC 9773), and the Issuer that
// drives it through the DCV plugins.
export {
  AcmeClient,
  type Directory,
  type Order,
  type OrderStatus,
  type Authorization,
  type AcmeChallenge,
  type CertificateChain,
  type Eab,
  type RenewalInfo,
} from './client.js';
export { AcmeTransport, parseLinks, type TransportOptions, type AcmeResponse } from './transport.js';
export { AccountKey, externalAccountBinding, dns01Value, type JwsAlgorithm, type FlattenedJws, type Jwk } from './jws.js';
export { AcmeError, problemToError, codeOfProblemType, parseRetryAfter, type ProblemDocument } from './problem.js';
export { driveOrder, type ChallengeType, type OrderFlowOptions, type OrderFlowContext, type OrderOutcome } from './order-flow.js';
export { AcmeIssuer, type AcmeIssuerOptions } from './issuer.js';
export { PollSchedule, ValidationPace, DEFAULT_POLL_START_MS, DEFAULT_POLL_MAX_MS, type PollTiming } from './poll-schedule.js';
export { readEabKey } from './eab.js';
export { ariCertId, ariCertIdOf, renewalTime } from './ari.js';
export { ACME_OPTIONS_SCHEMA, acmeIssuerModule, loadAcmeIssuer, acmeIssuerFromOptions, type AcmeCa, type AcmeOptions } from './issuer-module.js';
export { rateLimitFrom, refusesReplaces } from './rate-limit.js';
