import { Gauge, type Registry } from 'prom-client';

/** Declares a gauge in one registry, its name under the configured prefix. */
export type GaugeDeclarer = <L extends string>(name: string, help: string, labelNames: readonly L[]) => Gauge<L>;

export function gaugesIn(registry: Registry, prefix: string): GaugeDeclarer {
  return (name, help, labelNames) => new Gauge({ name: `${prefix}${name}`, help, labelNames, registers: [registry] });
}

/** An ISO 8601 time as Unix seconds, the unit Prometheus compares with time(). */
export function unixSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

export const flag = (value: boolean): number => (value ? 1 : 0);
