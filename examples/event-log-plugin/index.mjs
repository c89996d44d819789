// A third-party certsmith plugin, as someone outside this repository would write it: plain JavaScript,
// no dependency on inversify, loaded by path from a config:
//   "plugins": [{ "module": "./event-log-plugin/index.mjs", "options": { "file": "/tmp/events.jsonl" } }]
// It only listens: each lifecycle event becomes one JSON line in the file.
import { appendFileSync } from 'node:fs';

const EVENTS = ['inspect', 'dcv-created', 'dns-resolved', 'validated', 'issued', 'installed', 'failed'];

export const manifest = {
  name: 'example-event-log',
  version: '1.0.0',
  apiVersion: 1,
  optionsSchema: {
    type: 'object',
    required: ['file'],
    additionalProperties: false,
    properties: { file: { type: 'string', minLength: 1 } },
  },
  setup({ options, bus }) {
    for (const type of EVENTS) {
      bus.on(type, (event) => appendFileSync(options.file, `${JSON.stringify({ type, event })}\n`));
    }
  },
};
