// A fleet over NATS JetStream: each host's events and status for the others to see, the CAs' rate limits shared,
// and a fleet-wide bound on orders in flight per CA account. Every host stays autonomous: NATS unusable within the
// wait budget, the run goes on alone and its events and status are spooled for the next run.
import { ContainerModule, TOKENS, definePlugin, type CertsmithConfig, type Clock } from '@certsmith/core';
import { NatsFleet } from './nats-fleet.js';
import { OPTIONS_SCHEMA, settingsOf } from './options.js';

export { NatsFleet, type NatsFleetDeps } from './nats-fleet.js';
export { OPTIONS_SCHEMA, settingsOf, type FleetSettings, type RawFleetOptions } from './options.js';
export { DUPLICATE_WINDOW_NS } from './outbound.js';
export { HEARTBEAT_MS } from './last-report.js';
export { eventSubject, leaseKeys, rateLimitKey, statusKey, subjectToken } from './names.js';

export const manifest = definePlugin({
  name: '@certsmith/fleet-nats',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: OPTIONS_SCHEMA,
  module: (options) =>
    new ContainerModule(({ bind }) => {
      // One object is both the status sink and the fleet link: one connection and one wait budget per run.
      const fleet = Symbol('NatsFleet');
      bind(fleet)
        .toDynamicValue((ctx) => new NatsFleet(settingsOf(options, ctx.get<CertsmithConfig>(TOKENS.Config)), { clock: ctx.get<Clock>(TOKENS.Clock) }))
        .inSingletonScope();
      bind(TOKENS.StatusSink).toService(fleet);
      bind(TOKENS.FleetLink).toService(fleet);
    }),
});
export default manifest;
