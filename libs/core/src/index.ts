// The core of certsmith: the lifecycle bus, the plugin contracts and their tokens, the pipeline, the
// configuration. It imports no plugin and no app.
export * from './model.js';
export * from './events.js';
export * from './contracts.js';
export * from './caa.js';
export { dcvCheckOptionsOf } from './dcv-check-options.js';
export * from './tokens.js';
export { NO_FAULTS, type FaultPoints } from './fault-points.js';
export * from './errors.js';
export { LDH_LABEL, comparableName, hostnameProblem, isValidHostname } from './names.js';
export { writeFileAtomic, writeFilesAtomic, writePrivateFileAtomic, syncDirectory, type WriteOptions } from './atomic-file.js';
export * from './config/config.js';
export { BARE_PROFILES, type Profile, type ProfileName, type Profiles } from './config/profiles.js';
export * from './switches.js';
export * from './run-lock.js';
export * from './plugin.js';
// The one inversify of a run (built as one bundled file): plugins bind their ContainerModule with these.
export { Container, ContainerModule } from './inversify.js';
export * from './report.js';
export * from './event-log.js';
export * from './pipeline.js';
export * from './targets.js';
export * from './rate-limits.js';
export * from './pending-report.js';
export { PendingOrderStore } from './pending-store.js';
export * from './last-run.js';
export { relayOf, type SignalRelay } from './signal-relay.js';
export type * from './status-document.js';
export { renewalByLifetime, renewalByAri, ariWindowProblem, type RenewalTiming, type RenewalRule, type RenewalThresholds } from './renewal-timing.js';
export { OPTIONS_VALIDATOR_FILE, schemaHash, standaloneValidatorSource, type SchemaValidator, type SchemaMode } from './config/standalone.js';
export { OrderGate, DEFAULT_ORDERS_IN_FLIGHT } from './order-gate.js';
