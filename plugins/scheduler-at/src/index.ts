// Retry later on the system's `at` queue, as cPanel's try-later does; jobs are tagged so they can be listed
// (`atq`, `at -c N`) and removed (`atrm N`).
import { ContainerModule, TOKENS, definePlugin } from '@certsmith/core';
import { AtScheduler, DEFAULT_AT_OPTIONS } from './at-scheduler.js';

export { AtScheduler, DEFAULT_AT_OPTIONS, JOB_MARKER, shellQuote, type AtSchedulerOptions } from './at-scheduler.js';

export const manifest = definePlugin({
  name: '@certsmith/scheduler-at',
  version: '0.1.0',
  apiVersion: 1,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { queue: { type: 'string', pattern: '^[a-zA-Z]$', description: "at queue letter for certsmith's jobs (default c)." } },
  },
  module: (options) =>
    new ContainerModule(({ bind }) => {
      bind(TOKENS.Scheduler).toConstantValue(
        new AtScheduler({ ...DEFAULT_AT_OPTIONS, ...(typeof options.queue === 'string' ? { queue: options.queue } : {}) }),
      );
    }),
});
export default manifest;
