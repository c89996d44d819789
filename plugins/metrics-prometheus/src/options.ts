import type { OptionsOf } from '@certsmith/core';

export const DEFAULT_PREFIX = 'certsmith_';

export const OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: {
    file: {
      type: 'string',
      // node_exporter's textfile collector reads only `*.prom` files of its directory.
      pattern: '^/.+\\.prom$',
      description: "Absolute path of the metrics file, in node_exporter's --collector.textfile.directory, ending in .prom.",
    },
    prefix: {
      type: 'string',
      pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$',
      description: 'Prefix of every metric name (default certsmith_).',
    },
  },
} as const;

/** The plugin's options as a config gives them (checked against OPTIONS_SCHEMA first). */
export type PrometheusOptions = OptionsOf<typeof OPTIONS_SCHEMA>;

export interface PrometheusSettings {
  file: string;
  prefix: string;
}

export function settingsOf(options: PrometheusOptions): PrometheusSettings {
  return { file: options.file, prefix: options.prefix ?? DEFAULT_PREFIX };
}
