// Prometheus metrics: after every run, the host's certificates, pending orders and the run's outcome as a file for
// node_exporter's textfile collector.
import { ContainerModule, TOKENS, definePlugin } from '@certsmith/core';
import { OPTIONS_SCHEMA, settingsOf } from './options.js';
import { PrometheusSink } from './prometheus-sink.js';

export { PrometheusSink } from './prometheus-sink.js';
export { metricsText } from './exposition.js';
export { DcvFailureTally, UNCLASSIFIED, type DcvFailureCount } from './dcv-failure-tally.js';
export { OPTIONS_SCHEMA, DEFAULT_PREFIX, settingsOf, type PrometheusOptions, type PrometheusSettings } from './options.js';

export const manifest = definePlugin({
  name: '@certsmith/metrics-prometheus',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: OPTIONS_SCHEMA,
  module: (options) =>
    new ContainerModule(({ bind }) => {
      bind(TOKENS.StatusSink).toConstantValue(new PrometheusSink(settingsOf(options)));
    }),
});
export default manifest;
